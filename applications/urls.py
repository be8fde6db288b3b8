from django.urls import path

from . import views

app_name = "applications"

# Mounted under the language prefix: /<lang>/applications/... The status path must match Application.status_url.
urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("submitted/<str:token>/", views.confirmation, name="confirmation"),
    path("status/", views.lookup, name="lookup"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/edit/", views.edit, name="edit"),
    path("status/<str:token>/withdraw/", views.withdraw, name="withdraw"),
]
