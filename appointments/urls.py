from django.urls import path

from . import views

app_name = "appointments"

# Mounted under the language prefix: /<lang>/visits/<the request's private status token>/
urlpatterns = [
    path("<str:token>/", views.visit, name="visit"),
]
