"""enqueue_emails: many unsaved outbox rows queued at once, once per key, sending scheduled at commit.

On PostgreSQL the rows are COPYed into a temporary table and moved into the outbox by one
INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING; elsewhere (SQLite) bulk_create does it. The tests without
the postgres marker hold for both; the marked ones are about the PostgreSQL path (its temporary table, its errors,
another connection inserting the same key).
"""

import datetime
import itertools
import threading
import time

import pytest
from django.db import DataError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.functional import lazy

from notifications import tasks
from notifications.models import _STAGING_TABLE, OutboxMessage, enqueue_emails
from offices.models import Office
from tests.conftest import bulk_query_limit

pytestmark = pytest.mark.django_db

CONTEXT = {
    "subject": "缴费提醒：请在 24 小时内完成缴费",
    "body": "您好，张三：\n您的报名（编号 2024-650100-000123）已审核通过，请于截止时间前缴费。\n"
    "“引号”、emoji 🎓、制表符\t与 \\ 反斜杠。",
    "amounts": [300, 0.5, None, True],
    "nested": {"考点": "乌鲁木齐", "list": [{"a": 1}]},
}
_numbers = itertools.count(1)


def message(key=None, **fields):
    """An unsaved outbox row as the sweeps build it."""
    n = next(_numbers)
    defaults = {
        "dedup_key": key or f"enqueue-test:{n}",
        "recipient": f"candidate{n}@example.com",
        "language": "zh-hans",
        "template": "message",
        "context": {"subject": "缴费提醒", "body": "请于截止时间前缴费。"},
    }
    return OutboxMessage(**{**defaults, **fields})


@pytest.fixture
def sent(monkeypatch):
    """The pk lists handed to the broker (send_emails.delay) when the commit hooks run."""
    batches = []
    monkeypatch.setattr(tasks.send_emails, "delay", batches.append)
    return batches


def staging_table_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.{_STAGING_TABLE}"])
        return cursor.fetchone()[0] is not None


# Both backends --------------------------------------------------------------------------------------------------


def test_new_rows_are_returned_with_their_ids_in_the_order_given(django_capture_on_commit_callbacks, sent):
    messages = [message() for _n in range(5)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = enqueue_emails(messages)

    assert queued == messages  # the same objects, now saved
    assert all(row.pk is not None and not row._state.adding for row in queued)
    stored = dict(OutboxMessage.objects.values_list("pk", "dedup_key"))
    assert {row.pk: row.dedup_key for row in queued} == stored
    assert [row.pk for row in queued] == sorted(row.pk for row in queued)  # inserted in the order given
    assert len(callbacks) == 1
    assert sent == [[row.pk for row in queued]]


def test_keys_already_in_the_outbox_are_left_out(django_capture_on_commit_callbacks, sent):
    existing = OutboxMessage.objects.create(
        dedup_key="enqueue-test:existing", recipient="first@example.com", language="en", template="message"
    )
    again, new = message("enqueue-test:existing", recipient="second@example.com"), message()

    with django_capture_on_commit_callbacks(execute=True):
        queued = enqueue_emails([again, new])

    assert queued == [new]
    assert again.pk is None and again._state.adding
    assert OutboxMessage.objects.count() == 2
    assert OutboxMessage.objects.get(dedup_key="enqueue-test:existing").recipient == "first@example.com"
    assert sent == [[new.pk]]
    assert existing.pk not in sent[0]


def test_a_key_given_twice_in_one_call_is_queued_once_the_first_row_wins():
    first = message("enqueue-test:twice", recipient="first@example.com")
    second = message("enqueue-test:twice", recipient="second@example.com")
    other = message()

    queued = enqueue_emails([first, other, second])

    assert queued == [first, other]
    assert second.pk is None
    assert OutboxMessage.objects.get(dedup_key="enqueue-test:twice").recipient == "first@example.com"


def test_two_calls_in_one_transaction(django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        first = enqueue_emails([message("enqueue-test:a"), message("enqueue-test:b")])
        second = enqueue_emails([message("enqueue-test:b"), message("enqueue-test:c")])

    assert [row.dedup_key for row in first] == ["enqueue-test:a", "enqueue-test:b"]
    assert [row.dedup_key for row in second] == ["enqueue-test:c"]
    assert sorted(OutboxMessage.objects.values_list("dedup_key", flat=True)) == [
        "enqueue-test:a",
        "enqueue-test:b",
        "enqueue-test:c",
    ]
    assert len(callbacks) == 2
    assert sent == [[row.pk for row in first], [row.pk for row in second]]


def test_every_field_round_trips(english):
    office = Office.objects.get(code="650100")
    created = timezone.now() - datetime.timedelta(minutes=5, microseconds=123)
    later = created + datetime.timedelta(hours=2)
    full = message(
        "enqueue-test:full",
        recipient="张三@example.com",
        language="zh-hans",
        template="message",
        context=CONTEXT,
        office=office,
        created_at=created,
        next_attempt_at=later,
    )
    plain = message("enqueue-test:plain", context={})

    enqueue_emails([full, plain])

    row = OutboxMessage.objects.get(dedup_key="enqueue-test:full")
    assert row.pk == full.pk
    assert row.context == CONTEXT
    assert row.context["subject"] == "缴费提醒：请在 24 小时内完成缴费"
    assert (row.recipient, row.language, row.template) == ("张三@example.com", "zh-hans", "message")
    assert row.office_id == office.pk
    assert (row.created_at, row.next_attempt_at) == (created, later)
    assert (row.status, row.attempts, row.last_error) == (OutboxMessage.Status.PENDING, 0, "")
    assert (row.claimed_at, row.sent_at) == (None, None)
    other = OutboxMessage.objects.get(dedup_key="enqueue-test:plain")
    assert (other.context, other.office_id) == ({}, None)
    # The model's defaults, taken when the row was built.
    assert other.created_at == plain.created_at and other.next_attempt_at == plain.next_attempt_at


def test_values_that_need_preparing_are_prepared_as_bulk_create_would():
    prepared = message(
        "enqueue-test:lazy",
        template=lazy(lambda: "message", str)(),
        attempts=True,
        status=OutboxMessage.Status.FAILED,
        last_error=lazy(lambda: "错误", str)(),
    )

    enqueue_emails([prepared])

    row = OutboxMessage.objects.get(dedup_key="enqueue-test:lazy")
    assert (row.template, row.attempts, row.status, row.last_error) == ("message", 1, "failed", "错误")


def test_an_unknown_language_falls_back_to_the_default(settings):
    odd = message(language="fr")

    enqueue_emails([odd])

    assert odd.language == settings.LANGUAGE_CODE
    assert OutboxMessage.objects.get(pk=odd.pk).language == settings.LANGUAGE_CODE


def test_nothing_to_queue(django_capture_on_commit_callbacks, django_assert_num_queries):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, django_assert_num_queries(0):
        assert enqueue_emails([]) == []

    assert callbacks == []


def test_many_rows_in_a_few_queries(django_assert_max_num_queries):
    messages = [message(context=CONTEXT) for _n in range(300)]

    with django_assert_max_num_queries(bulk_query_limit(5)):
        queued = enqueue_emails(messages)

    assert len(queued) == 300
    assert OutboxMessage.objects.count() == 300


# PostgreSQL: COPY into a temporary table --------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_copies_into_a_temporary_table_dropped_after_each_call():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            enqueue_emails([message()])
        assert not staging_table_exists()
        enqueue_emails([message()])  # the same transaction: created again
        assert not staging_table_exists()

    statements = [query["sql"].split(" (")[0] for query in captured.captured_queries]
    assert statements == [
        f"CREATE TEMPORARY TABLE pg_temp.{connection.ops.quote_name(_STAGING_TABLE)}",
        'INSERT INTO "notifications_outboxmessage"',
        f"DROP TABLE pg_temp.{connection.ops.quote_name(_STAGING_TABLE)}",
    ]
    assert OutboxMessage.objects.count() == 2


@pytest.mark.postgres
def test_postgres_an_error_undoes_the_call_and_leaves_no_table_behind():
    too_long = message(recipient="x" * 300 + "@example.com")

    with pytest.raises(DataError), transaction.atomic():
        enqueue_emails([message("enqueue-test:before"), too_long])

    assert not staging_table_exists()
    assert not OutboxMessage.objects.exists()
    # The caller's transaction goes on: the next call creates the table afresh.
    assert [row.dedup_key for row in enqueue_emails([message("enqueue-test:after")])] == ["enqueue-test:after"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_outside_a_transaction_the_call_is_its_own(django_capture_on_commit_callbacks, sent):
    assert connection.get_autocommit()

    queued = enqueue_emails([message("enqueue-test:autocommit")])

    assert sent == [[queued[0].pk]]  # committed: sent at once
    assert OutboxMessage.objects.get(dedup_key="enqueue-test:autocommit").pk == queued[0].pk
    assert not staging_table_exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("other_commits", [True, False], ids=["other-commits", "other-rolls-back"])
def test_postgres_a_key_another_connection_is_inserting_meanwhile(other_commits):
    """Another transaction inserts one of our keys and has not committed when our INSERT runs: ours waits on the
    unique index; if the other commits, its row stays and ours is not returned, if it rolls back, ours goes in."""
    connection.ensure_connection()
    our_pid = connection.connection.info.backend_pid
    inserted, errors = threading.Event(), []

    def other_run():
        try:
            with transaction.atomic():
                OutboxMessage.objects.create(
                    dedup_key="enqueue-test:race", recipient="other@example.com", language="en", template="message"
                )
                inserted.set()
                # Hold the row until our INSERT waits for it, so it is decided "in between".
                deadline = time.monotonic() + 20
                with connection.cursor() as cursor:
                    while time.monotonic() < deadline:
                        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [our_pid])
                        if cursor.fetchone()[0] == "Lock":
                            break
                        time.sleep(0.02)
                    else:
                        errors.append("our INSERT never waited for the other transaction")
                if not other_commits:
                    transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
            inserted.set()
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run)
    other.start()
    try:
        assert inserted.wait(timeout=10)
        ours, free = message("enqueue-test:race", recipient="ours@example.com"), message("enqueue-test:free")
        with transaction.atomic():
            queued = enqueue_emails([ours, free])
    finally:
        other.join(timeout=30)

    assert errors == []
    assert OutboxMessage.objects.filter(dedup_key="enqueue-test:race").count() == 1
    race = OutboxMessage.objects.get(dedup_key="enqueue-test:race")
    if other_commits:
        assert queued == [free]
        assert ours.pk is None
        assert race.recipient == "other@example.com"
    else:
        assert queued == [ours, free]
        assert (race.pk, race.recipient) == (ours.pk, "ours@example.com")
    assert OutboxMessage.objects.get(dedup_key="enqueue-test:free").pk == free.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_key_another_connection_committed_before_our_insert():
    """Our transaction is open (as the sweep's, holding its row locks) when another one commits the key first."""
    with transaction.atomic():
        mine = enqueue_emails([message("enqueue-test:earlier")])

        def other_run():
            try:
                OutboxMessage.objects.create(
                    dedup_key="enqueue-test:committed", recipient="other@example.com", language="en", template="x"
                )
            finally:
                connections.close_all()

        other = threading.Thread(target=other_run)
        other.start()
        other.join(timeout=30)
        ours = message("enqueue-test:committed", recipient="ours@example.com")
        queued = enqueue_emails([ours, message("enqueue-test:later")])

    assert [row.dedup_key for row in mine] == ["enqueue-test:earlier"]
    assert [row.dedup_key for row in queued] == ["enqueue-test:later"]
    assert ours.pk is None
    assert OutboxMessage.objects.get(dedup_key="enqueue-test:committed").recipient == "other@example.com"
    assert OutboxMessage.objects.count() == 3
