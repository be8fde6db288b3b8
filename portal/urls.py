from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from offices import views as office_views
from public import views as public_views

from .health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every site, the admin included: answer rather than log a 404 each time.
    path("favicon.ico", RedirectView.as_view(url=static("portal/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("", public_views.home, name="home"),
    path("offices/", office_views.directory, name="office-directory"),
    path("help/", public_views.help_page, name="help"),
    path("applications/", include("applications.urls")),
    path("requests/", include("tickets.urls")),
    path("visits/", include("appointments.urls")),
)
