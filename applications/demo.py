"""Demo applications for `manage.py demo`: one in every status, one overdue, payment closing soon."""

import datetime
import io
import uuid

from django.core.files.base import ContentFile
from django.utils import timezone

from core.id_numbers import check_digit
from core.transitions import Act
from offices import workdays
from offices.models import Office, User
from offices.workdays import BEIJING

from .models import Application, ExamSession
from .workflow import APPLICATIONS

# name, document type, birth date, gender, office, qualification, work start, insured months, language
PEOPLE = [
    ("王芳", "resident_id", "19880312", "F", "650100", "bachelor", datetime.date(2011, 7, 1), 150, "zh-hans"),
    ("李娜", "resident_id", "19920605", "F", "650100", "associate", datetime.date(2014, 3, 1), 110, "zh-hans"),
    ("张伟", "resident_id", "19990815", "M", "650100", "bachelor", datetime.date(2021, 9, 1), 30, "zh-hans"),
    ("刘洋", "resident_id", "19850120", "M", "650100", "master", datetime.date(2016, 7, 1), 90, "zh-hans"),
    ("陈静", "resident_id", "19900909", "F", "650100", "bachelor", datetime.date(2013, 7, 1), 132, "zh-hans"),
    ("杨帆", "resident_id", "19870404", "M", "650100", "doctor", datetime.date(2019, 7, 1), 60, "en"),
    ("赵敏", "resident_id", "19930228", "F", "653100", "bachelor", datetime.date(2015, 7, 1), 100, "zh-hans"),
    ("黄磊", "resident_id", "19910711", "M", "653100", "associate", datetime.date(2012, 1, 1), 140, "zh-hans"),
    ("吴婷", "resident_id", "19890102", "F", "650100", "bachelor", datetime.date(2012, 7, 1), 120, "zh-hans"),
    ("周杰", "resident_id", "19860606", "M", "650100", "bachelor", datetime.date(2010, 7, 1), 160, "zh-hans"),
    ("Aigerim Nurlanovna", "passport", "19900315", "F", "650100", "master", datetime.date(2018, 9, 1), 70, "en"),
]


def _document_number(document_type, birth, gender, serial):
    if document_type == "passport":
        return f"N{serial:08d}"
    first17 = f"650102{birth}{serial % 100:02d}{1 if gender == 'M' else 2}"
    return first17 + check_digit(first17)


def _pdf(title):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    upload = ContentFile(out.getvalue(), name=uuid.uuid4().hex + ".pdf")
    upload.original_name = "社保缴费证明.pdf"
    return upload


def submit(person, serial, session, now):
    name, document_type, birth, gender, code, qualification, work_start, months, language = person
    application, _created = Application.submit(
        session=session,
        office=Office.objects.get(code=code),
        identity={
            "document_type": document_type,
            "document_number": _document_number(document_type, birth, gender, serial),
            "name": name,
            "birth_date": datetime.datetime.strptime(birth, "%Y%m%d").date(),
            "gender": gender,
            "nationality": "Kazakhstan" if document_type == "passport" else "中国",
        },
        details={
            "email": f"candidate{serial}@example.com",
            "phone": f"1380000{serial:04d}",
            "language": language,
            "qualification": qualification,
            "school": "新疆财经大学",
            "major": "会计学",
            "graduation_date": work_start - datetime.timedelta(days=31),
            "work_start_date": work_start,
            "claimed_insured_months": months,
            "ce_professional_credits": 64,
            "ce_public_credits": 30,
        },
        files={"insurance_pdf": _pdf(name)},
        submission_key=f"demo-{session.year}-{serial}",
        now=now,
    )
    return application


def approve(application, reviewer, now):
    """As a reviewer approves: the months of the social-insurance PDF recorded first; a check still red is
    overridden with a reason, which the history shows."""
    if application.verified_insured_months is None:
        application.record_verified_months(reviewer, application.claimed_insured_months, now=now)
    act = Act(by=reviewer, now=now)
    problems = [guard.check(application, act) for guard in APPLICATIONS.transitions["approve"].guards]
    override = "已现场核对学历与社保缴费证明原件。" if any(problems) else ""
    application.approve(reviewer, now=now, override=override)


def create_demo_applications(session: ExamSession, past_session: ExamSession, now):
    reviewer = User.objects.get(username="reviewer_urumqi")
    kashgar_reviewer = User.objects.get(username="reviewer_kashgar")
    early = session.registration_opens + datetime.timedelta(hours=10)  # long enough ago to be overdue
    recent = now - datetime.timedelta(minutes=30)
    # 3 was submitted two working days ago, at 10:00: its review is due today (the dashboard's first figure).
    today = timezone.localtime(now, BEIJING).date()
    two_workdays_ago = datetime.datetime.combine(workdays.workday_before(today, 2), datetime.time(10), tzinfo=BEIJING)
    # The ones decided below came in the day before (the dashboard's median time to decision is not zero).
    day_before = max(recent - datetime.timedelta(hours=20), session.registration_opens)
    when = {1: early, 7: early, 3: max(two_workdays_ago, session.registration_opens)}
    when.update(dict.fromkeys((5, 6, 8, 9), day_before))
    apps = {
        serial: submit(person, serial, session, when.get(serial, recent))
        for serial, person in enumerate(PEOPLE[:10], 1)
    }
    # 1 (Urumqi) and 7 (Kashgar) stay submitted and overdue; 3 stays submitted with the young-candidate flag.
    apps[4].return_for_correction(reviewer, "请上传完整的社保缴费证明（需显示全部缴费月份）。", now=recent)
    apps[5].record_verified_months(reviewer, 132, now=recent)
    approve(apps[5], reviewer, recent)
    approve(apps[9], reviewer, recent)
    apps[6].reject(reviewer, "work_years", "社保缴费月数不足。", now=recent)
    apps[2].withdraw(now=recent)
    approve(apps[8], kashgar_reviewer, recent)
    apps[8].mark_paid(recent, f"DEMO{apps[8].pk:06d}", now=recent)
    apps[9].mark_paid(recent, f"DEMO{apps[9].pk:06d}", now=recent)
    submit(PEOPLE[10], 11, session, recent)  # foreign candidate: waits for in-person review

    # Lapsed and closed exist only after a session's deadlines: shown in the 2024 session.
    past_open = past_session.registration_opens + datetime.timedelta(days=2)
    lapsed = submit(PEOPLE[0], 21, past_session, past_open)
    approve(lapsed, reviewer, past_open)
    APPLICATIONS.run_one("lapse", lapsed, Act(actor="system", now=past_session.payment_closes))
    closed = submit(PEOPLE[1], 22, past_session, past_open)
    closed.return_for_correction(reviewer, "请补充学历证书。", now=past_open)
    APPLICATIONS.run_one("close", closed, Act(actor="system", now=past_session.registration_closes))
    return Application.objects.count()
