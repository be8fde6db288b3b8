"""core.bulk_update.update_many: each row gets its own values, other rows and fields stay as they were."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application, Status
from core.bulk_update import update_many
from tests.applications.admin_helpers import application, clone_applications

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_one_statement_per_batch(session_2024, urumqi):
    first = application(session_2024, urumqi)
    apps = [first, *clone_applications(first, 4)]
    untouched = apps.pop()
    paid_at = datetime.datetime(2024, 7, 1, 10, 30, tzinfo=datetime.UTC)
    changed = [
        Application(
            pk=app.pk, status=Status.PAID, paid_at=paid_at + datetime.timedelta(minutes=n), payment_code=f"中{n}"
        )
        for n, app in enumerate(apps)
    ]
    changed[0].paid_at = None  # a NULL among the values

    with CaptureQueriesContext(connection) as queries:
        assert update_many(changed, ["status", "paid_at", "payment_code"], batch_size=3) == 4
    if connection.vendor == "postgresql":
        assert len(queries) == 2  # 3 + 1 rows
    rows = dict(Application.objects.values_list("pk", "paid_at"))
    assert rows[apps[0].pk] is None
    assert rows[apps[2].pk] == paid_at + datetime.timedelta(minutes=2)
    changed_rows = Application.objects.filter(pk__in=[a.pk for a in apps]).order_by("pk")
    assert list(changed_rows.values_list("payment_code", flat=True)) == ["中0", "中1", "中2", "中3"]
    assert set(changed_rows.values_list("status", flat=True)) == {Status.PAID}
    untouched.refresh_from_db()
    assert (untouched.status, untouched.payment_code, untouched.paid_at) == (Status.SUBMITTED, "", None)
    # Fields not named are left alone.
    assert Application.objects.get(pk=apps[1].pk).reference == apps[1].reference


def test_a_foreign_key_and_nothing_to_do(session_2024, urumqi):
    from applications.models import Payment

    app = application(session_2024, urumqi)
    payment = Payment.objects.create(
        session=session_2024, payment_code="P1", document_number="x", name="n", amount=300, paid_at=app.submitted_at
    )
    payment.application_id, payment.note = app.pk, "matched"
    assert update_many([payment], ["application", "note"]) == 1
    assert Payment.objects.values_list("application_id", "note").get() == (app.pk, "matched")
    assert update_many([], ["note"]) == 0
