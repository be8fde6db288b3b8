"""A sample of the national platform's payment list, for the demo and for trying the import by hand.

Rows: every approved or lapsed application of the session, paid one hour before payment close, and one
payment of a document number no application has (listed as unmatched after the import).
"""

import datetime
from pathlib import Path

import tablib
from django.utils import timezone

from core.id_numbers import check_digit
from offices.workdays import BEIJING

from .models import Application, Status

# The platform's list has Chinese headers; the import maps them to its columns.
HEADERS = ["证件号码", "姓名", "缴费金额", "缴费时间", "缴费编号"]
FEE = "112.00"


def sample_payments(session):
    # Spreadsheets carry Beijing wall-clock times without a zone.
    paid_at = timezone.localtime(session.payment_closes - datetime.timedelta(hours=1), BEIJING).replace(tzinfo=None)
    payable = (
        Application.objects.filter(session=session, status__in=[Status.APPROVED, Status.LAPSED])
        .select_related("candidate")
        .order_by("pk")
    )
    rows = [
        (app.candidate.document_number, app.candidate.name, FEE, paid_at, f"S{session.year}{app.pk:07d}")
        for app in payable
    ]
    stranger = "65010219800101005"
    rows.append((stranger + check_digit(stranger), "未知考生", FEE, paid_at, f"S{session.year}UNKNOWN"))
    return tablib.Dataset(*rows, headers=HEADERS)


def write_sample_payment_file(session, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = sample_payments(session)
    if path.suffix.lower() == ".csv":
        path.write_text(data.export("csv"), encoding="utf-8-sig")
    else:
        path.write_bytes(data.export("xlsx"))
    return path
