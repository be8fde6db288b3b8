"""The outbox in one process: enqueue, claim, failures, the resend action, the sweep and the admin's scoping.

Tasks run eagerly (tests/conftest.py); emails land in pytest-django's `mailoutbox`. Rows are enqueued inside the
test transaction, so `django_capture_on_commit_callbacks(execute=True)` stands in for the commit that hands the
task to the worker.
"""

import datetime
import itertools
import smtplib
from io import StringIO

import pytest
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage, enqueue_email
from notifications.sweeps import requeue_stalled_emails
from notifications.tasks import send_email
from offices.models import Office

pytestmark = pytest.mark.django_db

FOOTER = {"zh-hans": "新疆会计考试报名服务平台", "en": "Xinjiang Accounting Exam Registration Services"}
CHANGELIST = "admin:notifications_outboxmessage_changelist"
_keys = itertools.count(1)


class FailingBackend(BaseEmailBackend):
    """A mail server that hangs up: what the task must treat as worth another try."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"


@pytest.fixture
def kashgar(db):
    return Office.objects.get(code="653100")


def make_row(**fields):
    """An outbox row as a crashed worker or an earlier run left it: no task is scheduled for it."""
    defaults = {
        "dedup_key": f"test:{next(_keys)}",
        "recipient": "candidate@example.com",
        "language": "zh-hans",
        "template": "message",
        "context": {"subject": "报名审核结果", "body": "您的报名已审核通过。"},
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


def enqueue(key="application:1:approved", language="zh-hans", template="message", **kwargs):
    return enqueue_email(
        key=key,
        recipient="candidate@example.com",
        language=language,
        template=template,
        context={"subject": "Review result", "body": "Your application was approved."},
        **kwargs,
    )


def resend(client, *pks):
    return client.post(reverse(CHANGELIST), {"action": "resend", "_selected_action": [str(pk) for pk in pks]})


# Enqueueing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_enqueue_sends_one_email_in_the_recipients_language(
    language, urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    other_language = "en" if language == "zh-hans" else "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        message, created = enqueue_email(
            key="application:1:approved",
            recipient="candidate@example.com",
            language=language,
            template="message",
            context={"subject": "审核结果\nResult", "body": "Approved: 会计初级"},
            office=urumqi,
        )

    assert created
    assert OutboxMessage.objects.count() == 1
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["candidate@example.com"]
    assert email.subject == "审核结果 Result"  # one line, whatever the template's line breaks
    assert email.extra_headers["X-Portal-Key"] == "application:1:approved"
    assert email.body.startswith("Approved: 会计初级")
    assert FOOTER[language] in email.body
    assert FOOTER[other_language] not in email.body
    assert django_settings.PORTAL_BASE_URL in email.body
    message.refresh_from_db()
    assert (message.status, message.attempts, message.language) == (OutboxMessage.Status.SENT, 1, language)
    assert message.sent_at is not None
    assert message.last_error == ""


def test_nothing_is_sent_before_the_commit(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue()
    assert len(callbacks) == 1
    assert mailoutbox == []
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING


def test_the_same_key_twice_gives_one_row_and_one_email(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first, first_created = enqueue(key="ticket:7:verified")
        again, again_created = enqueue(key="ticket:7:verified", language="en")

    assert (first_created, again_created) == (True, False)
    assert again.pk == first.pk
    assert again.language == "zh-hans"  # the first call's row, not the second call's arguments
    assert len(callbacks) == 1
    assert OutboxMessage.objects.count() == 1
    assert len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        enqueue(key="ticket:7:verified")
    assert len(mailoutbox) == 1


def test_an_unknown_language_falls_back_to_chinese(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = enqueue(language="fr")

    assert message.language == "zh-hans"
    assert len(mailoutbox) == 1
    assert FOOTER["zh-hans"] in mailoutbox[0].body


# Claiming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["sending", "sent", "failed"])
def test_a_row_that_is_not_pending_is_not_claimed(status, mailoutbox):
    row = make_row(status=status, attempts=1)

    assert OutboxMessage.claim(row.pk) is None
    assert send_email.delay(row.pk).get() == "not pending"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at) == (status, 1, None)
    assert mailoutbox == []


def test_claiming_marks_the_row_sending_and_counts_the_attempt():
    row = make_row(attempts=2)
    moment = timezone.now() - datetime.timedelta(minutes=1)

    claimed = OutboxMessage.claim(row.pk, now=moment)

    assert claimed.pk == row.pk
    row.refresh_from_db()
    assert (row.status, row.claimed_at, row.attempts) == (OutboxMessage.Status.SENDING, moment, 3)
    assert OutboxMessage.claim(row.pk) is None


def test_a_task_delivered_twice_sends_one_email(mailoutbox):
    row = make_row()

    assert send_email.delay(row.pk).get() == "sent"
    assert send_email.delay(row.pk).get() == "not pending"

    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxMessage.Status.SENT, 1)


def test_a_task_for_a_row_that_no_longer_exists_does_nothing(mailoutbox):
    assert send_email.delay(999_999).get() == "not pending"
    assert mailoutbox == []


# Failures ----------------------------------------------------------------------------------------------


def test_an_smtp_error_leaves_the_row_pending_for_a_later_attempt(smtp_down, mailoutbox):
    row = make_row()
    before = timezone.now()

    # Called directly (as a worker runs it, minus the broker), the task's retry surfaces as Retry.
    with pytest.raises(Retry) as raised:
        send_email(row.pk)

    assert isinstance(raised.value.__cause__, smtplib.SMTPServerDisconnected)
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.PENDING
    assert row.attempts == 1
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert row.next_attempt_at >= before + datetime.timedelta(seconds=60)
    assert mailoutbox == []


def test_after_the_last_attempt_an_smtp_error_marks_the_row_failed(smtp_down, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    row = make_row()
    delays = []

    for attempt in range(1, 4):
        started = timezone.now()
        with pytest.raises(Retry):
            send_email(row.pk)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (OutboxMessage.Status.PENDING, attempt)
        delays.append(row.next_attempt_at - started)
    assert send_email(row.pk) == "failed"

    assert [round(delay.total_seconds() / 60) for delay in delays] == [1, 2, 4]  # backing off
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxMessage.Status.FAILED, 4)
    assert "SMTPServerDisconnected" in row.last_error


def test_retries_stop_at_the_maximum_number_of_attempts(smtp_down, mailoutbox, django_capture_on_commit_callbacks):
    # Eager Celery runs each retry at once instead of after its countdown: the chain must still end.
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = enqueue()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == django_settings.OUTBOX_MAX_ATTEMPTS
    assert mailoutbox == []


def test_a_missing_template_fails_the_row_without_retry(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = enqueue(template="no_such_template")

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert message.last_error.startswith("TemplateDoesNotExist: ")
    assert "no_such_template" in message.last_error
    assert send_email.delay(message.pk).get() == "not pending"
    assert mailoutbox == []


# The staff action "resend" ------------------------------------------------------------------------------


def test_resend_requeues_a_failed_row_and_it_is_sent(
    reviewer_urumqi, urumqi, client_of, mailoutbox, django_capture_on_commit_callbacks
):
    row = make_row(office=urumqi, status="failed", attempts=5, last_error="SMTPServerDisconnected: gone")

    with django_capture_on_commit_callbacks(execute=True):
        response = resend(client_of(reviewer_urumqi), row.pk)

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxMessage.Status.SENT, 1, "")
    assert len(mailoutbox) == 1


def test_resend_leaves_rows_that_did_not_fail_alone(
    reviewer_urumqi, urumqi, client_of, mailoutbox, django_capture_on_commit_callbacks
):
    sent = make_row(office=urumqi, status="sent", attempts=1)
    sending = make_row(office=urumqi, status="sending", attempts=1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resend(client_of(reviewer_urumqi), sent.pk, sending.pk)

    assert callbacks == []
    assert mailoutbox == []
    assert {row.status for row in OutboxMessage.objects.all()} == {"sent", "sending"}


def test_resend_of_another_offices_row_changes_nothing(
    reviewer_urumqi, kashgar, client_of, mailoutbox, django_capture_on_commit_callbacks
):
    row = make_row(office=kashgar, status="failed", attempts=5, last_error="SMTPServerDisconnected: gone")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = resend(client_of(reviewer_urumqi), row.pk)

    assert response.status_code in {302, 403, 404}
    assert callbacks == []
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 5, "SMTPServerDisconnected: gone")
    assert mailoutbox == []


def test_resend_of_a_row_without_office_is_for_regional_staff_only(
    reviewer_urumqi, regional_admin, client_of, mailoutbox, django_capture_on_commit_callbacks
):
    row = make_row(office=None, status="failed", attempts=5)

    with django_capture_on_commit_callbacks(execute=True):
        resend(client_of(reviewer_urumqi), row.pk)
    row.refresh_from_db()
    assert row.status == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        resend(client_of(regional_admin), row.pk)
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(mailoutbox) == 1


# The sweep ----------------------------------------------------------------------------------------------


def test_the_sweep_takes_up_a_row_stalled_in_sending_and_leaves_a_fresh_one(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    stale_after = datetime.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS)
    stalled = make_row(status="sending", attempts=1, claimed_at=now - stale_after - datetime.timedelta(seconds=1))
    fresh = make_row(status="sending", attempts=1, claimed_at=now - datetime.timedelta(seconds=30))

    with django_capture_on_commit_callbacks(execute=True):
        summary = requeue_stalled_emails(now)

    assert summary == "1 stalled taken up again, 0 given up, 0 lost pending sent again"
    stalled.refresh_from_db()
    assert (stalled.status, stalled.attempts) == (OutboxMessage.Status.SENT, 2)
    fresh.refresh_from_db()
    assert (fresh.status, fresh.attempts) == (OutboxMessage.Status.SENDING, 1)
    assert [email.to for email in mailoutbox] == [[stalled.recipient]]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = requeue_stalled_emails(now)
    assert summary == "0 stalled taken up again, 0 given up, 0 lost pending sent again"
    assert callbacks == []
    assert len(mailoutbox) == 1


def test_the_sweep_sends_a_pending_row_whose_task_was_lost(mailoutbox, django_capture_on_commit_callbacks):
    now = timezone.now()
    lost = make_row(next_attempt_at=now - datetime.timedelta(minutes=2, seconds=1))
    just_queued = make_row(next_attempt_at=now - datetime.timedelta(minutes=1))
    backing_off = make_row(attempts=2, next_attempt_at=now + datetime.timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        summary = requeue_stalled_emails(now)

    assert summary == "0 stalled taken up again, 0 given up, 1 lost pending sent again"
    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == (OutboxMessage.Status.SENT, 1)
    for row in (just_queued, backing_off):
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.PENDING
    assert len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        summary = requeue_stalled_emails(now)
    assert summary == "0 stalled taken up again, 0 given up, 0 lost pending sent again"
    assert len(mailoutbox) == 1


def test_run_sweeps_prints_the_summary_of_the_outbox_sweep(mailoutbox, django_capture_on_commit_callbacks):
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    stalled = make_row(status="sending", attempts=1, claimed_at=datetime.datetime(2024, 7, 2, 17, 50, tzinfo=beijing))
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_sweeps", "--now", "2024-07-02T18:00+08:00", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "Sweeps as of 2024-07-02 18:00:00 (Beijing time):"
    assert (
        "  notifications.sweeps.requeue_stalled_emails: 1 stalled taken up again, 0 given up, 0 lost pending sent again"
    ) in lines
    stalled.refresh_from_db()
    assert stalled.status == OutboxMessage.Status.SENT
    assert len(mailoutbox) == 1


# Office scoping of the outbox admin ---------------------------------------------------------------------


@pytest.fixture
def rows(urumqi, kashgar):
    return {
        "650100": make_row(office=urumqi, status="sent"),
        "653100": make_row(office=kashgar, status="failed"),
        None: make_row(office=None, status="sent"),
    }


def listed(client):
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def object_urls(row):
    return [
        reverse("admin:notifications_outboxmessage_change", args=[row.pk]),
        reverse("admin:notifications_outboxmessage_history", args=[row.pk]),
    ]


def test_office_staff_see_only_their_offices_rows(rows, reviewer_urumqi, reviewer_kashgar, client_of):
    assert listed(client_of(reviewer_urumqi)) == {rows["650100"].pk}
    assert listed(client_of(reviewer_kashgar)) == {rows["653100"].pk}


def test_regional_staff_see_every_row(rows, regional_admin, client_of):
    assert listed(client_of(regional_admin)) == {row.pk for row in rows.values()}


def test_office_staff_get_404_for_other_rows_by_url(rows, reviewer_urumqi, client_of):
    client = client_of(reviewer_urumqi)
    for url in object_urls(rows["650100"]):
        assert client.get(url).status_code == 200, url
    for row in (rows["653100"], rows[None]):
        for url in object_urls(row):
            assert client.get(url).status_code == 404, url


def test_regional_staff_open_every_row(rows, regional_admin, client_of):
    client = client_of(regional_admin)
    for row in rows.values():
        for url in object_urls(row):
            assert client.get(url).status_code == 200, url


def test_sweep_gives_up_on_a_row_that_stalled_on_its_last_attempt(settings):
    import datetime

    from django.utils import timezone

    from notifications.models import OutboxMessage
    from notifications.sweeps import requeue_stalled_emails

    now = timezone.now()
    message = OutboxMessage.objects.create(
        recipient="crash@example.com",
        language="en",
        template="message",
        dedup_key="stalled-last-attempt",
        status=OutboxMessage.Status.SENDING,
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        claimed_at=now - datetime.timedelta(hours=1),
    )
    requeue_stalled_emails(now)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert "stopped while sending" in message.last_error
