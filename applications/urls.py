from django.urls import path

app_name = "applications"

urlpatterns: list = [
    # The public application form, status lookup and private status pages (see applications/views.py).
]
