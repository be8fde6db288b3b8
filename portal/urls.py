from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from offices import views as office_views
from public import views as public_views

from .health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("", public_views.home, name="home"),
    path("offices/", office_views.directory, name="office-directory"),
    path("help/", public_views.help_page, name="help"),
    path("applications/", include("applications.urls")),
    path("requests/", include("tickets.urls")),
)
