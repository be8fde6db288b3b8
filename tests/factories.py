"""Builders for test data: valid identity numbers, small real PDFs and images, applications."""

import datetime
import io
import itertools
import uuid

from django.core.files.base import ContentFile
from django.utils import timezone

from core.id_numbers import check_digit

_serial = itertools.count(1)


def resident_id(birth="19900101", area="650102", male=True):
    """A valid resident ID number (GB 11643) with the given birth date and gender, unique per call."""
    first17 = f"{area}{birth}{next(_serial) % 100:02d}{1 if male else 2}"
    return first17 + check_digit(first17)


def pdf_bytes(text="social insurance"):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def pdf_file(name="shebao.pdf"):
    upload = ContentFile(pdf_bytes(), name=uuid.uuid4().hex + ".pdf")
    upload.original_name = name
    return upload


def identity(**changes):
    birth = changes.pop("birth_date", datetime.date(1990, 1, 1))
    values = {
        "document_type": "resident_id",
        "document_number": resident_id(birth.strftime("%Y%m%d")),
        "name": "张三",
        "birth_date": birth,
        "gender": "M",
        "nationality": "中国",
    }
    values.update(changes)
    return values


def details(**changes):
    values = {
        "email": "candidate@example.com",
        "phone": "13800000000",
        "language": "zh-hans",
        "qualification": "bachelor",
        "school": "新疆大学",
        "major": "会计学",
        "graduation_date": datetime.date(2012, 7, 1),
        "work_start_date": datetime.date(2012, 8, 1),
        "claimed_insured_months": 120,
        "ce_professional_credits": 60,
        "ce_public_credits": 30,
    }
    values.update(changes)
    return values


def submit_application(session, office, *, now=None, identity_changes=None, files=None, **detail_changes):
    """Submit an application as the public form does; returns the application."""
    from applications.models import Application

    now = now or session.registration_opens + datetime.timedelta(days=1)
    application, _created = Application.submit(
        session=session,
        office=office,
        identity=identity(**(identity_changes or {})),
        details=details(**detail_changes),
        files=files if files is not None else {"insurance_pdf": pdf_file()},
        submission_key=uuid.uuid4().hex,
        now=now,
    )
    return application


def approve(application, by, **kwargs):
    """Approve as a reviewer does once the social-insurance PDF is checked, for tests whose subject comes after the
    approval: the verified months (the claimed ones) are set first, without a history line; a check that stays red
    (a test's deliberately odd candidate) is overridden with a reason. Approval's own preconditions are tested in
    tests/applications/test_workflow_equivalence.py."""
    from applications.models import Application
    from applications.workflow import APPLICATIONS
    from core.transitions import Act

    if application.verified_insured_months is None:
        Application.objects.filter(pk=application.pk).update(verified_insured_months=application.claimed_insured_months)
        application.verified_insured_months = application.claimed_insured_months
    # While payment is open (approving later has no effect and is refused): the 2024 session's tests approve in 2024.
    latest = application.session.payment_closes - datetime.timedelta(minutes=1)
    kwargs["now"] = kwargs.get("now") or min(timezone.now(), latest)
    act = Act(by=by, now=kwargs["now"])
    if any(guard.check(application, act) for guard in APPLICATIONS.transitions["approve"].guards):
        kwargs.setdefault("override", "Test set-up: the approval is not what this test is about.")
    return application.approve(by, **kwargs)
