"""The portal's URLs plus the naive admin site (bench process only)."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

from .naive import site

urlpatterns = [path("naive-admin/", site.urls), *portal_urlpatterns]
