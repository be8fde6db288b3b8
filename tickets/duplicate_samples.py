"""A sample of the system-screened duplicate-payment list (FAQ 18), for the demo and for trying the import by hand.

Rows: two candidates of the session who paid twice (paid applications first, then approved ones), each with two
payment codes, amounts and times in one cell as the list shows them, and one row of a document number no
application has (listed as unmatched by the import). The headers are the list's Chinese ones, which the import
(tickets.resources.DuplicatePaymentResource) maps to its columns.
"""

import datetime
from pathlib import Path

import tablib
from django.utils import timezone

from applications.models import Application, Status
from applications.payment_samples import FEE
from core.id_numbers import check_digit
from offices.workdays import BEIJING

# document_number, name, payment_codes, amounts, paid_at
HEADERS = ["证件号码", "姓名", "缴费编号", "缴费金额", "缴费时间"]
SAMPLE_CANDIDATES = 2


def sample_duplicate_payments(session):
    # Spreadsheets carry Beijing wall-clock times without a zone; two payments a few minutes apart.
    first = timezone.localtime(session.registration_opens + datetime.timedelta(days=2, hours=10), BEIJING)
    times = ", ".join(f"{first + datetime.timedelta(minutes=m):%Y-%m-%d %H:%M:%S}" for m in (0, 7))
    applications = _paid_twice(session)
    rows = [
        (
            app.candidate.document_number,
            app.candidate.name,
            f"D{session.year}{app.pk:07d}1, D{session.year}{app.pk:07d}2",
            f"{FEE}, {FEE}",
            times,
        )
        for app in applications
    ]
    stranger = "65010219790505003"
    rows.append(
        (
            stranger + check_digit(stranger),
            "未知考生",
            f"D{session.year}UNKNOWN1, D{session.year}UNKNOWN2",
            f"{FEE}, {FEE}",
            times,
        )
    )
    return tablib.Dataset(*rows, headers=HEADERS)


def _paid_twice(session):
    """The sample's candidates: paid applications of the session first, then approved ones, in pk order."""
    applications = Application.objects.filter(session=session).select_related("candidate").order_by("pk")
    paid = list(applications.filter(status=Status.PAID)[:SAMPLE_CANDIDATES])
    approved = list(applications.filter(status=Status.APPROVED)[: SAMPLE_CANDIDATES - len(paid)])
    return paid + approved


def write_sample_duplicate_file(session, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = sample_duplicate_payments(session)
    if path.suffix.lower() == ".csv":
        path.write_text(data.export("csv"), encoding="utf-8-sig")
    else:
        path.write_bytes(data.export("xlsx"))
    return path
