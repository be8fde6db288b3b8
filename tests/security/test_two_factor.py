"""Two-factor login for staff (django-otp TOTP), enforced on every admin URL when PORTAL_REQUIRE_2FA is on."""

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import ExamSession
from offices.models import Office
from tests.applications.admin_helpers import application, decide_url
from tests.security.login_helpers import LOGIN, english_client, logged_in, post_login

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 6, 1, 9, 0, 10, tzinfo=datetime.UTC)
IMPORT = "/admin/offices/office/import/"


@pytest.fixture
def two_factor(settings):
    settings.PORTAL_REQUIRE_2FA = True


@pytest.fixture
def urumqi_application(db):
    return application(ExamSession.objects.get(year=2024), Office.objects.get(code="650100"))


def enrol(user):
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code(device):
    """The device's current code, as the staff member's authenticator app shows it."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sent_to_login(response, url):
    return response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next={url}")


def test_unverified_session_is_sent_to_login_on_every_admin_url(
    two_factor, client, regional_admin, reviewer_urumqi, urumqi_application
):
    app = urumqi_application
    enrol(regional_admin)
    # Logged in (password only, as before two-factor login was switched on), but not verified by a device.
    client.force_login(regional_admin)
    for url in ["/admin/", IMPORT, "/admin/offices/office/export/", "/admin/applications/application/"]:
        assert sent_to_login(client.get(url), url), url

    reviewer = Client()
    reviewer.force_login(reviewer_urumqi)
    custom_view = decide_url(app, "approve")
    assert sent_to_login(reviewer.get(custom_view), custom_view)
    assert sent_to_login(reviewer.post(custom_view, {"note": "ok"}), custom_view)


@pytest.mark.usefixtures("during_the_2024_session")
def test_without_two_factor_the_same_sessions_get_in(client, regional_admin, reviewer_urumqi, urumqi_application):
    app = urumqi_application
    client.force_login(regional_admin)
    assert client.get("/admin/").status_code == 200
    assert client.get(IMPORT).status_code == 200
    reviewer = Client()
    reviewer.force_login(reviewer_urumqi)
    assert reviewer.get(decide_url(app, "approve")).status_code == 200


def test_login_with_the_right_code_opens_every_admin_url(two_factor, regional_admin):
    device = enrol(regional_admin)
    client = Client()
    page = client.get(LOGIN)
    assert 'name="otp_token"' in page.content.decode()
    assert logged_in(post_login(client, "regional_admin", token=code(device)))
    assert client.get("/admin/").status_code == 200
    assert client.get(IMPORT).status_code == 200


def test_a_code_cannot_be_used_twice(two_factor, reviewer_urumqi):
    device = enrol(reviewer_urumqi)
    with time_machine.travel(START, tick=False):
        token = code(device)
        assert logged_in(post_login(Client(), "reviewer_urumqi", token=token))
        # Same code, same 30 seconds, another browser: refused (the device remembers the last step it accepted).
        again = post_login(english_client(), "reviewer_urumqi", token=token)
    assert again.status_code == 200
    assert "This code is wrong or was used already." in again.content.decode()
    device.refresh_from_db()
    assert device.last_t == int(START.timestamp()) // 30


def test_password_alone_or_a_wrong_code_is_refused(two_factor, reviewer_urumqi):
    enrol(reviewer_urumqi)
    client = english_client()
    no_code = post_login(client, "reviewer_urumqi")
    assert no_code.status_code == 200
    assert "Enter the 6-digit code that your authenticator app shows." in no_code.content.decode()
    wrong = post_login(client, "reviewer_urumqi", token="000000")
    assert "This code is wrong or was used already." in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    # The page is in Chinese by default.
    assert "请输入身份验证器应用显示的6位动态码。" in post_login(Client(), "reviewer_urumqi").content.decode()


def test_wrong_codes_count_towards_the_login_lockout(two_factor, reviewer_urumqi):
    device = enrol(reviewer_urumqi)
    for _ in range(5):
        answer = post_login(Client(), "reviewer_urumqi", token="000000")
        # django-otp throttles the device too, so later codes may be refused for that reason instead.
        device.throttling_failure_count = 0
        device.throttling_failure_timestamp = None
        device.save()
    assert answer.status_code == 429
    assert post_login(Client(), "reviewer_urumqi", token=code(device)).status_code == 429


def test_staff_without_a_device_are_told_to_ask_the_regional_office(two_factor, reviewer_urumqi):
    answer = post_login(english_client(), "reviewer_urumqi", token="123456")
    assert answer.status_code == 200
    assert "no authenticator app is set up for your account yet. Ask the regional office" in answer.content.decode()
    chinese = post_login(Client(), "reviewer_urumqi", token="123456").content.decode()
    assert "请联系自治区会考办为您设置" in chinese


def test_login_form_has_no_code_field_when_two_factor_is_off(client, reviewer_urumqi):
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    assert logged_in(post_login(client, "reviewer_urumqi"))


def test_staff_otp_command_enrols_once_and_resets(two_factor, reviewer_urumqi):
    out = io.StringIO()
    call_command("staff_otp", "reviewer_urumqi", "--enrol", stdout=out)
    device = TOTPDevice.objects.get(user=reviewer_urumqi)
    assert device.confirmed
    printed = out.getvalue()
    assert device.config_url in printed
    assert printed.startswith("Authenticator of reviewer_urumqi")
    assert "█" in printed or "▀" in printed  # the QR code, drawn in the terminal
    # The enrolled device is the one the login asks for.
    assert logged_in(post_login(Client(), "reviewer_urumqi", token=code(device)))

    with pytest.raises(CommandError, match="has an authenticator already"):
        call_command("staff_otp", "reviewer_urumqi", "--enrol", stdout=io.StringIO())

    call_command("staff_otp", "reviewer_urumqi", "--reset", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=reviewer_urumqi).exists()
    call_command("staff_otp", "reviewer_urumqi", "--enrol", stdout=io.StringIO())
    assert TOTPDevice.objects.get(user=reviewer_urumqi).key != device.key

    with pytest.raises(CommandError, match="No staff account"):
        call_command("staff_otp", "nobody", "--reset")
    with pytest.raises(CommandError):
        call_command("staff_otp", "reviewer_urumqi")  # --enrol or --reset is required
