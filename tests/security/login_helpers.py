"""Logging in through the real admin login form (axes and django-otp see every attempt)."""

from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD

LOGIN = "/admin/login/"
ADDRESS = "203.0.113.7"


def post_login(client, username, password=PASSWORD, *, token=None, address=ADDRESS, **headers):
    data = {"username": username, "password": password, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    return client.post(LOGIN, data, REMOTE_ADDR=address, **headers)


def logged_in(response) -> bool:
    """The login answered with the redirect to the admin (a refused login re-renders the form: 200, or 429)."""
    return response.status_code == 302 and response["Location"] == "/admin/"


def english_client():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
