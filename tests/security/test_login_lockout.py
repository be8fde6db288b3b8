"""Admin login lockout (django-axes): per (username, address), per address at a higher threshold, behind proxies."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import PASSWORD
from tests.security.login_helpers import ADDRESS, english_client, logged_in, post_login

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def fail(client, username, times, **kwargs):
    return [post_login(client, username, "wrong-password", **kwargs) for _ in range(times)]


def test_five_wrong_passwords_lock_the_username_at_that_address(reviewer_urumqi):
    client = Client()
    answers = fail(client, "reviewer_urumqi", 5)
    assert [a.status_code for a in answers[:4]] == [200] * 4  # the form again, with its error
    locked = answers[4]
    assert locked.status_code == 429
    # In the admin's language, Chinese by default, saying how long to wait.
    assert "登录失败次数过多。请等待 30 分钟后再试。" in locked.content.decode()

    # Even the right password is refused now, without being checked.
    right = post_login(client, "reviewer_urumqi")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session

    english = post_login(english_client(), "reviewer_urumqi")
    assert english.status_code == 429
    assert "Too many failed logins. Wait 30 minutes, then try again." in english.content.decode()


def test_four_failures_then_the_right_password_logs_in_and_starts_counting_again(reviewer_urumqi):
    fail(Client(), "reviewer_urumqi", 4)
    assert logged_in(post_login(Client(), "reviewer_urumqi"))
    # A successful login clears the account's failures: four more do not lock it.
    fail(Client(), "reviewer_urumqi", 4)
    assert logged_in(post_login(Client(), "reviewer_urumqi"))


def test_another_user_or_another_address_is_not_locked(reviewer_urumqi, manager_urumqi):
    fail(Client(), "reviewer_urumqi", 5)
    assert post_login(Client(), "reviewer_urumqi").status_code == 429
    # Colleagues in the same office (same public address) log in as usual.
    assert logged_in(post_login(Client(), "manager_urumqi"))
    # The same account from elsewhere is not locked: the key is (username, address).
    assert logged_in(post_login(Client(), "reviewer_urumqi", address="198.51.100.20"))


def test_fifty_failures_from_one_address_lock_that_address_for_everyone(reviewer_urumqi, manager_urumqi):
    client = Client()
    for n in range(49):
        assert post_login(client, f"guess{n}", "wrong-password").status_code == 200
    # 49 failures across usernames: the office can still log in.
    assert logged_in(post_login(Client(), "manager_urumqi"))

    assert post_login(client, "guess49", "wrong-password").status_code == 429  # the 50th
    locked = post_login(Client(), "reviewer_urumqi")
    assert locked.status_code == 429
    assert "请等待 30 分钟后再试" in locked.content.decode()
    # Other addresses are not affected.
    assert logged_in(post_login(Client(), "reviewer_urumqi", address="198.51.100.20"))


def test_per_address_threshold_is_a_setting(settings, reviewer_urumqi):
    settings.PORTAL_LOGIN_FAILURES_PER_IP = 8
    for n in range(8):
        post_login(Client(), f"guess{n}", "wrong-password")
    assert post_login(Client(), "reviewer_urumqi").status_code == 429


def test_behind_a_proxy_a_forged_forwarded_for_does_not_pick_the_key(settings, reviewer_urumqi):
    settings.PORTAL_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    client_address = "198.51.100.9"
    for n in range(5):
        # The client writes anything it likes in front; the proxy appends the address it saw.
        forged = f"192.0.2.{n}, {client_address}"
        post_login(Client(), "reviewer_urumqi", "wrong-password", address=proxy, HTTP_X_FORWARDED_FOR=forged)

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {client_address}
    again = post_login(
        Client(), "reviewer_urumqi", address=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.200, {client_address}"
    )
    assert again.status_code == 429
    # A colleague behind the same proxy with another address is not locked.
    assert logged_in(
        post_login(Client(), "reviewer_urumqi", address=proxy, HTTP_X_FORWARDED_FOR=f"{client_address}, 198.51.100.10")
    )


def test_without_a_proxy_forwarded_for_is_ignored(reviewer_urumqi):
    for n in range(5):
        post_login(Client(), "reviewer_urumqi", "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ADDRESS}
    assert post_login(Client(), "reviewer_urumqi", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_login_works_again_after_the_cool_off(reviewer_urumqi):
    with time_machine.travel(START, tick=False) as traveller:
        fail(Client(), "reviewer_urumqi", 5)
        traveller.shift(datetime.timedelta(minutes=20))
        waiting = post_login(Client(), "reviewer_urumqi")
        assert waiting.status_code == 429
        # Refused attempts do not extend the lockout: 10 minutes are left.
        assert "请等待 10 分钟后再试" in waiting.content.decode()
        traveller.shift(datetime.timedelta(minutes=10, seconds=1))
        assert logged_in(post_login(Client(), "reviewer_urumqi", PASSWORD))


def test_cool_off_is_a_setting(settings, reviewer_urumqi):
    settings.PORTAL_LOCKOUT_MINUTES = 5
    with time_machine.travel(START, tick=False) as traveller:
        fail(Client(), "reviewer_urumqi", 5)
        assert "请等待 5 分钟后再试" in post_login(Client(), "reviewer_urumqi").content.decode()
        traveller.shift(datetime.timedelta(minutes=5, seconds=1))
        assert logged_in(post_login(Client(), "reviewer_urumqi"))
