from django.urls import path

from . import views

app_name = "tickets"

# Mounted under the language prefix: /<lang>/requests/... The status path must match Ticket.status_url.
urlpatterns = [
    path("", views.requests_page, name="index"),
    path("status/", views.lookup, name="lookup"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/print/", views.print_form, name="print"),
    path("status/<str:token>/form.docx", views.ticket_form_download, name="ticket-form"),
    path("submitted/<str:token>/", views.confirmation, name="confirmation"),
    path("<slug:kind_slug>/new/", views.new_request, name="new"),
    path("<slug:kind_slug>/form.docx", views.form_download, name="form"),
]
