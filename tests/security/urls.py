"""The portal's URLs plus a view that fails, for the server-error page and its log line."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

FAILING_NUMBER = "650102198804120119"


def failing_view(request):
    raise RuntimeError(f"cannot process candidate {FAILING_NUMBER}")


urlpatterns = [path("failing/", failing_view), *portal_urlpatterns]
