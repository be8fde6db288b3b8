"""Demo requests for `manage.py demo`: every kind in every status that makes sense for it.

Each request is filed with Ticket.open_request and taken to its status with the model's own steps, by the demo
staff (reviewer_urumqi, reviewer_kashgar, regional_admin), a few minutes apart. A few belong to Kashgar, so that
office scoping shows; one password reset is overdue; the expired requests belong to the 2024 session, whose
deadlines have passed (the current session's exemption deadline is still ahead: watch it with run_sweeps --now).
"""

import datetime
import decimal
import io
import uuid

from django.core.files.base import ContentFile

from applications.models import Application
from core.id_numbers import check_digit
from offices.models import Office, User

from .models import Kind, Status, Ticket

URUMQI, KASHGAR = "650100", "653100"
KEY_PREFIX = "demo-ticket-"
STEP = datetime.timedelta(minutes=1)

# Who files: (name, birth date, gender, language), or the serial of a demo application of the current session
# (applications/demo.py), whose candidate and contact details the request takes.
# Details: the kind's own fields; "application": "own" links the candidate's (paid) application.
PLANS = [
    # Password resets (FAQ 4–5): finished by the local office, no deadline.
    (Kind.PASSWORD_RESET, Status.SUBMITTED, URUMQI, ("孙丽", "19920314", "F", "zh-hans"), {"platform": "national"}),
    (Kind.PASSWORD_RESET, Status.VERIFIED, KASHGAR, ("阿依古丽", "19950611", "F", "zh-hans"), {"platform": "xinjiang"}),
    (Kind.PASSWORD_RESET, Status.IN_PROGRESS, URUMQI, ("马超", "19870723", "M", "zh-hans"), {"platform": "xinjiang"}),
    (
        Kind.PASSWORD_RESET,
        Status.COMPLETED,
        URUMQI,
        ("Daniyar Seitkali", "19910402", "M", "en"),
        {"platform": "xinjiang"},
    ),
    (Kind.PASSWORD_RESET, Status.REJECTED, URUMQI, ("郭强", "19840830", "M", "zh-hans"), {"platform": "national"}),
    # Personal-information changes (FAQ 9: platform identity; FAQ 15: registration after payment, with a deadline).
    (
        Kind.INFO_CHANGE,
        Status.SUBMITTED,
        KASHGAR,
        8,  # paid in Kashgar: a registration change before the info-change deadline
        {"scope": "registration", "application": "own", "old_name": "黄磊", "new_name": "黄垒"},
    ),
    (
        Kind.INFO_CHANGE,
        Status.VERIFIED,
        URUMQI,
        ("何雪", "19930105", "F", "zh-hans"),
        {"scope": "platform_identity", "old_gender": "M", "new_gender": "F"},
    ),
    (
        Kind.INFO_CHANGE,
        Status.IN_PROGRESS,
        URUMQI,
        ("罗琳", "19890917", "F", "en"),
        {"scope": "platform_identity", "old_name": "罗琳", "new_name": "罗琳娜"},
    ),
    (
        Kind.INFO_CHANGE,
        Status.COMPLETED,
        URUMQI,
        ("高原", "19860211", "M", "zh-hans"),
        {"scope": "platform_identity", "old_name": "高原", "new_name": "高远"},
    ),
    (
        Kind.INFO_CHANGE,
        Status.REJECTED,
        KASHGAR,
        ("买买提", "19900808", "M", "zh-hans"),
        {"scope": "platform_identity", "old_name": "买买提", "new_name": "买买提江"},
    ),
    (
        Kind.INFO_CHANGE,
        Status.EXPIRED,
        URUMQI,
        ("林峰", "19880419", "M", "zh-hans"),
        {"scope": "registration", "old_name": "林峰", "new_name": "林锋"},
    ),
    # Certification deletions (FAQ 6): verified and escalated locally, deleted by the regional office.
    (Kind.CERT_DELETION, Status.SUBMITTED, URUMQI, ("宋佳", "19940321", "F", "zh-hans"), {}),
    (Kind.CERT_DELETION, Status.VERIFIED, URUMQI, ("唐亮", "19851212", "M", "zh-hans"), {}),
    (Kind.CERT_DELETION, Status.IN_PROGRESS, URUMQI, ("许晴", "19920727", "F", "en"), {}),
    (Kind.CERT_DELETION, Status.ESCALATED, URUMQI, ("韩冰", "19880102", "F", "zh-hans"), {}),
    (Kind.CERT_DELETION, Status.COMPLETED, URUMQI, ("冯涛", "19830615", "M", "zh-hans"), {}),
    (Kind.CERT_DELETION, Status.REJECTED, URUMQI, ("曹颖", "19910909", "F", "zh-hans"), {}),
    # Duplicate-payment refunds reported by candidates (FAQ 18); the screened list comes with the import.
    (Kind.REFUND, Status.SUBMITTED, URUMQI, ("邓超", "19870310", "M", "zh-hans"), {}),
    (Kind.REFUND, Status.VERIFIED, URUMQI, ("彭丽", "19900424", "F", "zh-hans"), {}),
    (Kind.REFUND, Status.IN_PROGRESS, URUMQI, ("曾伟", "19860918", "M", "zh-hans"), {}),
    (Kind.REFUND, Status.ESCALATED, KASHGAR, ("古丽娜", "19930603", "F", "zh-hans"), {}),
    (Kind.REFUND, Status.COMPLETED, URUMQI, ("谢楠", "19890129", "F", "zh-hans"), {}),
    (Kind.REFUND, Status.REJECTED, URUMQI, ("田野", "19850505", "M", "zh-hans"), {}),
    # Subject exemptions (FAQ 19): verified in person before the exemption deadline.
    (Kind.EXEMPTION, Status.SUBMITTED, KASHGAR, ("热娜", "19910716", "F", "zh-hans"), {}),
    (Kind.EXEMPTION, Status.VERIFIED, URUMQI, ("Emily Zhou", "19920220", "F", "en"), {}),
    (Kind.EXEMPTION, Status.IN_PROGRESS, URUMQI, ("潘磊", "19880808", "M", "zh-hans"), {}),
    (Kind.EXEMPTION, Status.COMPLETED, URUMQI, 4, {}),  # 刘洋: his application becomes exempt from 财务管理
    (Kind.EXEMPTION, Status.REJECTED, URUMQI, ("蒋敏", "19900612", "F", "zh-hans"), {}),
    (Kind.EXEMPTION, Status.EXPIRED, URUMQI, ("余辉", "19870101", "M", "zh-hans"), {}),
]
# Foreign candidates (passports) and their nationality.
FOREIGN = {"Daniyar Seitkali": "Kazakhstan", "Emily Zhou": "Singapore"}
# The one overdue request: filed on the session's first days and still in progress.
OVERDUE = (Kind.PASSWORD_RESET, Status.IN_PROGRESS)

REJECTIONS = {
    Kind.PASSWORD_RESET: "现场出示的身份证件与申请人信息不一致，请本人携带有效身份证件重新申请。",
    Kind.INFO_CHANGE: "未提供公安机关出具的姓名变更证明，请补齐材料后重新申请。",
    Kind.CERT_DELETION: "书面说明未由本人签字，请本人重新填写并签字后申请。",
    Kind.REFUND: "经非税收入系统核查，未发现重复缴费记录。",
    Kind.EXEMPTION: "所持学位为财务硕士，不属于会计硕士（MPAcc）专业学位，不符合免试条件。",
}
ESCALATIONS = {
    Kind.CERT_DELETION: "已现场核验身份证原件及本人签字的书面说明，请会考办删除实名认证信息。",
    Kind.REFUND: "已核对银行卡回单，两笔缴费金额、时间一致，请会考办在非税系统核实并退费。",
}
ALL_MATERIALS = {
    "id_card_seen": True,
    "degree_certificate_seen": True,
    "chsi_record_seen": True,
    "application_form_seen": True,
}


def create_demo_tickets(session, past_session, now):
    """File and process the demo requests (once: a second call finds them and does nothing)."""
    if Ticket.objects.filter(submission_key__startswith=KEY_PREFIX).exists():
        return 0
    staff = {
        URUMQI: User.objects.get(username="reviewer_urumqi"),
        KASHGAR: User.objects.get(username="reviewer_kashgar"),
    }
    regional = User.objects.get(username="regional_admin")
    offices = Office.objects.in_bulk([URUMQI, KASHGAR])
    recent = now - datetime.timedelta(hours=4)
    for serial, (kind, status, code, person, details) in enumerate(PLANS, 1):
        if status == Status.EXPIRED:
            filed_in, at = past_session, _before_deadline(kind, past_session)
        elif (kind, status) == OVERDUE:
            filed_in, at = session, session.registration_opens + datetime.timedelta(hours=10)
        else:
            filed_in, at = session, recent + serial * 5 * STEP
        ticket = _file(kind, offices[code], person, details, serial, filed_in, at)
        _advance(ticket, status, staff[code], regional, at)
    return Ticket.objects.filter(submission_key__startswith=KEY_PREFIX).count()


def _before_deadline(kind, session):
    """When an expired request of the 2024 session was filed: in the registration window (exemption), or
    after payment closed (registration change)."""
    if kind == Kind.EXEMPTION:
        return session.registration_opens + datetime.timedelta(days=1, hours=10)
    return session.payment_closes + datetime.timedelta(days=8)


def _file(kind, office, person, details, serial, session, at):
    identity, contact, application = _who(person, serial, session, office)
    fields = {**_kind_fields(kind, serial, at), **details}
    if fields.get("application") == "own":
        fields["application"] = application
    platform = fields.get("platform", "")
    if platform == "national":
        fields["self_service_tried"] = True  # FAQ 5: self-service recovery first
    needs_session = kind in (Kind.EXEMPTION, Kind.REFUND) or fields.get("scope") == "registration"
    ticket, _created = Ticket.open_request(
        kind=kind,
        office=office,
        identity=identity,
        contact=contact,
        detail_fields=fields,
        submission_key=f"{KEY_PREFIX}{session.year}-{serial}",
        session=session if needs_session else None,
        platform=platform,
        now=at,
    )
    return ticket


def _who(person, serial, session, office):
    """(identity, contact, application) of a new demo person, or of the candidate of a demo application."""
    if isinstance(person, int):
        application = Application.objects.select_related("candidate").get(
            submission_key=f"demo-{session.year}-{person}"
        )
        candidate = application.candidate
        identity = {
            field: getattr(candidate, field)
            for field in ("document_type", "document_number", "name", "birth_date", "gender", "nationality")
        }
        contact = {"email": application.email, "phone": application.phone, "language": application.language}
        return identity, contact, application
    name, birth, gender, language = person
    nationality = FOREIGN.get(name)
    identity = {
        "document_type": "passport" if nationality else "resident_id",
        "document_number": f"E{7300000 + serial}" if nationality else _resident_id(birth, gender, serial, office.code),
        "name": name,
        "birth_date": datetime.datetime.strptime(birth, "%Y%m%d").date(),
        "gender": gender,
        "nationality": nationality or "中国",
    }
    contact = {"email": f"request{serial}@example.com", "phone": f"1390000{serial:04d}", "language": language}
    return identity, contact, None


def _resident_id(birth, gender, serial, office_code):
    # Areas other than the 650102 of the demo applications, so that no request takes over an applicant.
    area = "653101" if office_code == KASHGAR else "650103"
    first17 = f"{area}{birth}{serial:02d}{1 if gender == 'M' else 2}"
    return first17 + check_digit(first17)


def _kind_fields(kind, serial, at):
    if kind == Kind.CERT_DELETION:
        return {"statement": "本人因原注册邮箱已停用，无法找回全国会计人员统一服务管理平台账号，申请删除实名认证信息。"}
    if kind == Kind.REFUND:
        paid = (at - datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
        return {
            "source": "candidate_report",
            "payment_codes": f"DEMO{serial:04d}A, DEMO{serial:04d}B",
            "amounts": "112.00, 112.00",
            "paid_at": f"{paid}, {paid}",
            "receipt": _pdf("银行卡回单.pdf"),
            "receipt_name": "银行卡回单.pdf",
        }
    if kind == Kind.EXEMPTION:
        return {
            "degree": "mpacc",
            "certificate_number": f"10755320{serial:08d}",
            "school": "新疆财经大学",
            "graduation_date": datetime.date(2018, 6, 30),
        }
    return {}


def _pdf(title):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return ContentFile(out.getvalue(), name=uuid.uuid4().hex + ".pdf")


# Taking a request to its status ------------------------------------------------------------------------------


def _advance(ticket, status, staff, regional, at):
    """The steps that take a submitted request to `status`, each a minute after the one before."""
    moments = (at + n * STEP for n in range(1, 20))
    if status == Status.SUBMITTED:
        return
    if status == Status.EXPIRED:
        ticket.expire(ticket.deadline)
        return
    if status == Status.REJECTED and ticket.kind == Kind.PASSWORD_RESET:
        ticket.reject(staff, REJECTIONS[ticket.kind], now=next(moments))  # turned away at the counter
        return
    ticket.verify(staff, "身份证原件", now=next(moments))
    if status == Status.VERIFIED:
        ticket.assign(staff, by=staff, now=next(moments))
        return
    if status == Status.REJECTED and ticket.kind != Kind.REFUND:
        ticket.reject(staff, REJECTIONS[ticket.kind], now=next(moments))
        return
    ticket.start(staff, now=next(moments))
    if status == Status.IN_PROGRESS:
        _in_progress(ticket, staff, moments)
        return
    if ticket.kind in ESCALATIONS:
        ticket.escalate(staff, ESCALATIONS[ticket.kind], now=next(moments))
        if ticket.kind == Kind.REFUND:
            note = "银行卡回单两笔缴费金额、时间一致，已留存复印件。"
            ticket.post_message(note, by=staff, visible_to_candidate=False, now=next(moments))
    if status == Status.ESCALATED:
        return
    if status == Status.REJECTED:  # a refund: the non-tax system shows no second payment
        ticket.reject(regional, REJECTIONS[ticket.kind], now=next(moments))
        return
    _complete(ticket, staff, regional, moments)


def _in_progress(ticket, staff, moments):
    """Something under way: a question to the candidate, or the materials seen so far."""
    if ticket.kind == Kind.EXEMPTION:
        ticket.exemption.record_materials(
            staff, {"id_card_seen": True, "degree_certificate_seen": True}, now=next(moments)
        )
    elif ticket.kind == Kind.CERT_DELETION:
        ticket.post_message(
            "请补充一份本人签字的书面说明（可在办理窗口领取模板）。",
            by=staff,
            visible_to_candidate=True,
            now=next(moments),
        )


def _complete(ticket, staff, regional, moments):
    detail = ticket.detail
    if ticket.kind == Kind.PASSWORD_RESET:
        detail.record_reset(staff, now=next(moments))
        ticket.complete(staff, now=next(moments))
    elif ticket.kind == Kind.EXEMPTION:
        detail.record_materials(staff, ALL_MATERIALS, now=next(moments))
        ticket.complete(staff, now=next(moments))
    elif ticket.kind == Kind.INFO_CHANGE:
        ticket.complete(staff, "已核验户籍证明，姓名已更正。", now=next(moments))
    elif ticket.kind == Kind.CERT_DELETION:
        detail.mark_deleted(regional, now=next(moments))
        ticket.complete(regional, now=next(moments))
    elif ticket.kind == Kind.REFUND:
        detail.record_nontax_check(regional, now=next(moments))
        refunded = next(moments)
        detail.record_refund(regional, decimal.Decimal("112.00"), refunded.date(), f"TK{ticket.pk:06d}", now=refunded)
        ticket.complete(regional, now=next(moments))
