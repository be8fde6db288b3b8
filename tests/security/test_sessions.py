"""Staff sessions: a new key at login, server-side logout, idle timeout, and deactivation ends them."""

import datetime
import io
from importlib import import_module

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

from offices.models import User
from tests.security.login_helpers import LOGIN, english_client, logged_in, post_login

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
COOKIE = django_settings.SESSION_COOKIE_NAME


def store(key=None):
    return import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=key)


def session_key(client):
    return client.cookies[COOKIE].value


def with_cookie(key):
    client = Client()
    client.cookies[COOKIE] = key
    return client


def shows_admin(client):
    return client.get("/admin/").status_code == 200


def test_login_gets_a_new_session_key(reviewer_urumqi):
    # A session key planted before login (session fixation) is not the one that carries the login.
    planted = store()
    planted["planted"] = True
    planted.create()
    client = with_cookie(planted.session_key)
    assert logged_in(post_login(client, "reviewer_urumqi"))
    assert session_key(client) != planted.session_key
    assert not store().exists(planted.session_key)
    assert not shows_admin(with_cookie(planted.session_key))
    assert shows_admin(client)


def test_logout_ends_the_session_on_the_server(reviewer_urumqi):
    client = Client()
    assert logged_in(post_login(client, "reviewer_urumqi"))
    key = session_key(client)
    assert shows_admin(with_cookie(key))
    client.post("/admin/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    # A copy of the old cookie gives nothing.
    answer = with_cookie(key).get("/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith(LOGIN)


def test_idle_staff_are_logged_out(reviewer_urumqi):
    with time_machine.travel(START, tick=False) as traveller:
        client = english_client()
        assert logged_in(post_login(client, "reviewer_urumqi"))
        key = session_key(client)
        # Working keeps the session alive, well past 30 minutes after login.
        for _ in range(4):
            traveller.shift(datetime.timedelta(minutes=25))
            assert shows_admin(client)
        traveller.shift(datetime.timedelta(minutes=30, seconds=1))
        answer = client.get("/admin/")
        assert answer.status_code == 302 and answer["Location"].startswith(LOGIN)
        assert [str(m) for m in get_messages(answer.wsgi_request)] == [
            "You were logged out after 30 minutes without activity."
        ]
        assert not Session.objects.filter(session_key=key).exists()
        assert not shows_admin(with_cookie(key))


def test_idle_timeout_is_a_setting(settings, reviewer_urumqi):
    settings.PORTAL_STAFF_IDLE_MINUTES = 5
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        assert logged_in(post_login(client, "reviewer_urumqi"))
        traveller.shift(datetime.timedelta(minutes=4))
        assert shows_admin(client)
        traveller.shift(datetime.timedelta(minutes=5, seconds=1))
        assert not shows_admin(client)


def test_the_last_request_time_is_not_written_on_every_request(reviewer_urumqi):
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        post_login(client, "reviewer_urumqi")
        traveller.shift(datetime.timedelta(seconds=30))
        assert COOKIE not in client.get("/admin/").cookies  # session unchanged: not saved again
        traveller.shift(datetime.timedelta(seconds=31))
        assert COOKIE in client.get("/admin/").cookies  # over a minute: last-seen time refreshed


def test_an_active_session_still_ends_at_its_maximum_age(settings, reviewer_urumqi):
    settings.SESSION_COOKIE_AGE = 3600
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        post_login(client, "reviewer_urumqi")
        for _ in range(3):
            traveller.shift(datetime.timedelta(minutes=20))
            assert shows_admin(client)
        traveller.shift(datetime.timedelta(minutes=1))
        assert not shows_admin(client)


def test_public_site_sets_no_session(reviewer_urumqi):
    answer = Client().get("/zh-hans/")
    assert answer.status_code == 200
    assert COOKIE not in answer.cookies


def two_sessions_of(username):
    clients = [Client(), Client()]
    for client in clients:
        assert logged_in(post_login(client, username))
    return clients


def test_deactivating_a_staff_member_in_the_admin_ends_their_sessions(client_of, regional_admin, reviewer_urumqi):
    sessions = two_sessions_of("reviewer_urumqi")
    keys = [session_key(c) for c in sessions]
    admin = client_of(regional_admin)
    form = {
        "username": "reviewer_urumqi",
        "last_name": "",
        "first_name": "",
        "email": "",
        "office": "650100",
        "role": "reviewer",
        "is_staff": "on",
        # is_active unticked
    }
    answer = admin.post(f"/admin/offices/user/{reviewer_urumqi.pk}/change/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    reviewer_urumqi.refresh_from_db()
    assert not reviewer_urumqi.is_active
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not any(shows_admin(c) for c in sessions)
    # The regional staff member's own session is untouched.
    assert shows_admin(admin)


def test_deactivate_staff_command_ends_their_sessions(reviewer_urumqi, manager_urumqi):
    sessions = two_sessions_of("reviewer_urumqi")
    colleague = two_sessions_of("manager_urumqi")
    out = io.StringIO()
    call_command("deactivate_staff", "reviewer_urumqi", stdout=out)
    assert "ended 2 session(s)" in out.getvalue()
    assert not User.objects.get(username="reviewer_urumqi").is_active
    assert not any(shows_admin(c) for c in sessions)
    assert all(shows_admin(c) for c in colleague)
    with pytest.raises(CommandError, match="No staff account"):
        call_command("deactivate_staff", "nobody")


def test_a_session_of_an_account_deactivated_otherwise_gives_nothing_and_is_deleted(reviewer_urumqi):
    client = Client()
    post_login(client, "reviewer_urumqi")
    key = session_key(client)
    User.objects.filter(pk=reviewer_urumqi.pk).update(is_active=False)  # e.g. a bulk change, no end_sessions
    assert not shows_admin(client)
    assert not Session.objects.filter(session_key=key).exists()
