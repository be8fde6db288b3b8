"""Realistic generated data for the benchmark, written in bulk (COPY for the big tables).

Ids are chosen here (1..N) rather than by the sequences, so that history rows and outbox keys can point to
their application without a round trip; the sequences are moved past them at the end.
"""

import datetime
import random
import secrets
import time

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from applications.models import Application, ApplicationEvent, Candidate, ExamSession, rebuild_counters
from core.id_numbers import check_digit
from core.references import ALPHABET, BODY_LENGTH, _check_character
from notifications.models import OutboxMessage
from offices.models import REGIONAL_OFFICE_CODE, Office, Role, User
from offices.workdays import BEIJING
from tickets.models import (
    CertificationDeletion,
    Exemption,
    InfoChange,
    Kind,
    PasswordReset,
    Refund,
    Ticket,
    TicketEvent,
    due_for,
)

SCALES = {
    # applications per session (current first), tickets, outbox rows
    "regional": {"sessions": (125_000, 45_000, 20_000, 10_000), "tickets": 60_000, "outbox": 500_000},
    "national": {"sessions": (1_250_000, 450_000, 200_000, 100_000), "tickets": 60_000, "outbox": 500_000},
}
# Approved, waiting for payment in the current session: the reminder sweep's 50,000 at every scale.
APPROVED_UNPAID = 50_000
# Submitted applications of the large office ready for a batch approval (verified months, every check green).
BATCH_READY = 1_000
STAFF = 300
PASSWORD = "bench-password-not-secret"  # noqa: S105 - bench-only accounts in the bench database
LARGE_OFFICE = "650100"
# Share of the applications per office: a few large offices (Urumqi, Changji, Yili, Kashgar), many small ones.
OFFICE_WEIGHTS = {
    "650100": 30,
    "652300": 12,
    "654000": 11,
    "653100": 10,
    "650200": 5,
    "652900": 6,
    "652800": 5,
    "653200": 5,
    "654200": 4,
    "650400": 3,
    "650500": 3,
    "652700": 2,
    "653000": 2,
    "654300": 2,
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鑫斌宇浩凯健俊帆帅旭宁龙林欣佳琪晨阳雪婷"
SCHOOLS = ("新疆大学", "新疆财经大学", "石河子大学", "新疆农业大学", "喀什大学", "伊犁师范大学", "塔里木大学")
MAJORS = ("会计学", "财务管理", "审计学", "金融学", "经济学", "工商管理")
GREEN_CHECKS = [
    {"code": code, "ok": True, "message": message}
    for code, message in (
        ("work_years", "Bachelor's degree needs 4 years; 16 years counted (from the work start date)."),
        ("insured_months", "Bachelor's degree needs 4 years; 13 years counted (verified social-insurance months)."),
        ("continuing_education", "Continuing education complete: 60 professional and 30 public credits."),
        ("young", "Born before the young-candidate cutoff."),
        ("documents", "Required uploads present and readable."),
        ("identity", "Document number, birth date and gender agree."),
        ("duplicate", "No other application in this session."),
    )
]


def log(message):
    print(f"[generate] {message}", flush=True)


def at(year, month, day, hour=0):
    return datetime.datetime(year, month, day, hour, tzinfo=BEIJING)


def session_dates(year, opens):
    """Every date of a session whose registration opens at `opens` (the 2024 pattern, shifted)."""
    closes = opens + datetime.timedelta(days=14)
    payment = closes + datetime.timedelta(hours=6)
    close_day = timezone.localtime(closes, BEIJING).date()
    exam = close_day + datetime.timedelta(days=67)
    return {
        "year": year,
        "registration_opens": opens,
        "registration_closes": closes,
        "payment_closes": payment,
        "realname_auth_last_day": close_day - datetime.timedelta(days=5),
        "exemption_deadline": closes,
        "duplicate_list_due": close_day + datetime.timedelta(days=7),
        "info_change_deadline": exam - datetime.timedelta(days=20),
        "admit_card_from": exam - datetime.timedelta(days=5),
        "admit_card_to": exam - datetime.timedelta(days=3),
        "exam_first_day": exam,
        "exam_last_day": exam + datetime.timedelta(days=2),
        "young_candidate_cutoff": close_day.replace(year=close_day.year - 26),
    }


def make_sessions(now):
    """Three past sessions and a current one whose registration is open now (the season of the benchmark)."""
    current_year = timezone.localtime(now, BEIJING).year + 1
    sessions = []
    for year in (current_year - 3, current_year - 2, current_year - 1):
        values = session_dates(year, at(year, 6, 19))
        session, _created = ExamSession.objects.update_or_create(year=year, defaults=values)
        sessions.append(session)
    opens = (now - datetime.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    values = session_dates(current_year, opens)
    current, _created = ExamSession.objects.update_or_create(year=current_year, defaults=values)
    current.make_current()
    return [current, *reversed(sessions)]


def make_staff():
    offices = list(Office.objects.exclude(code=REGIONAL_OFFICE_CODE).order_by("code"))
    password = make_password(PASSWORD)
    users = [
        User(username="bench_regional", office_id=REGIONAL_OFFICE_CODE, role=Role.REGIONAL, is_staff=True),
        User(username="bench_reviewer_large", office_id=LARGE_OFFICE, role=Role.REVIEWER, is_staff=True),
    ]
    for n in range(8):
        users.append(User(username=f"regional{n:02d}", office_id=REGIONAL_OFFICE_CODE, role=Role.REGIONAL))
    total_weight = sum(OFFICE_WEIGHTS.get(o.code, 1) for o in offices)
    remaining = STAFF - len(users)
    for office in offices:
        count = max(4, round(remaining * OFFICE_WEIGHTS.get(office.code, 1) / total_weight))
        for n in range(count):
            if len(users) >= STAFF:
                break
            role = Role.MANAGER if n < 2 else Role.REVIEWER
            users.append(User(username=f"{role}_{office.code}_{n:02d}", office_id=office.code, role=role))
    for user in users:
        user.password = password
        user.is_staff = True
        user.email = f"{user.username}@bench.invalid"
    User.objects.bulk_create(users, batch_size=500)
    return {user.username: user for user in User.objects.filter(username__in=[u.username for u in users])}


class Copier:
    """COPY rows of a model: columns not given take the field's default (or NULL / empty text)."""

    def __init__(self, model, given):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.given = given
        self.defaults = []
        for field in self.fields:
            if field.attname in given or field.column in given:
                self.defaults.append(None)
            elif field.has_default():
                value = field.get_default()
                self.defaults.append(Jsonb(value) if field.get_internal_type() == "JSONField" else value)
            elif field.null:
                self.defaults.append(None)
            else:
                self.defaults.append("")
        self.positions = {name: self.columns.index(model._meta.get_field(name).column) for name in given}

    def copy(self, rows):
        started, count = time.monotonic(), 0
        table = self.model._meta.db_table
        names = ", ".join(f'"{c}"' for c in self.columns)
        order = [self.positions[name] for name in self.given]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for values in rows:
                    row = list(self.defaults)
                    for position, value in zip(order, values, strict=True):
                        row[position] = value
                    copy.write_row(row)
                    count += 1
        log(f"{table}: {count} rows in {time.monotonic() - started:.1f} s")
        return count


def reference(prefix, seen):
    while True:
        body = "".join(random.choices(ALPHABET, k=BODY_LENGTH))
        ref = prefix + body + _check_character(body)
        if ref not in seen:
            seen.add(ref)
            return ref


def resident_id(i, male):
    """A valid, unique resident ID number for candidate number i."""
    area = f"65{(i % 16) + 1:02d}02"
    j = i // 16
    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=j % 9000)
    serial = (j // 9000) * 2 + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17), birth


def offices_weighted():
    codes = list(OFFICE_WEIGHTS)
    return codes, [OFFICE_WEIGHTS[c] for c in codes]


def status_plan(session_index, total):
    """[(status, count)] of one session: the current one in full season, past ones settled."""
    if session_index == 0:
        rest = total - APPROVED_UNPAID - BATCH_READY
        shares = (
            ("submitted", 0.20),
            ("in_person_review", 0.01),
            ("returned", 0.04),
            ("paid", 0.61),
            ("rejected", 0.08),
            ("withdrawn", 0.06),
        )
        plan = [("approved", APPROVED_UNPAID), ("batch", BATCH_READY)]
        plan += [(status, int(rest * share)) for status, share in shares]
    else:
        shares = (("paid", 0.78), ("lapsed", 0.08), ("rejected", 0.06), ("withdrawn", 0.04), ("closed", 0.04))
        plan = [(status, int(total * share)) for status, share in shares]
    plan[-1] = (plan[-1][0], plan[-1][1] + total - sum(count for _s, count in plan))
    return plan


def generate(scale, now):
    rng = random.Random(20240619)
    random.seed(20240619)
    config = SCALES[scale]
    with transaction.atomic():
        sessions = make_sessions(now)
        staff = make_staff()
    reviewers = {}
    for user in staff.values():
        if user.role in (Role.REVIEWER, Role.MANAGER):
            reviewers.setdefault(user.office_id, []).append(user.pk)
    regional_ids = [u.pk for u in staff.values() if u.role == Role.REGIONAL]
    codes, weights = offices_weighted()

    n_apps = sum(config["sessions"])
    # Most candidates apply once; some come back in later years (the same person, a new application).
    n_candidates = int(n_apps * 0.85)
    candidate_docs = []

    def candidates():
        for i in range(1, n_candidates + 1):
            male = i % 2 == 0
            number, birth = resident_id(i, male)
            candidate_docs.append(number)
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            yield (i, "resident_id", number, name, birth, "M" if male else "F", "中国", now)

    Copier(
        Candidate,
        ["id", "document_type", "document_number", "name", "birth_date", "gender", "nationality", "created_at"],
    ).copy(candidates())

    refs = set()
    app_columns = [
        "id", "reference", "status_token", "session", "office", "candidate", "email", "phone", "language",
        "qualification", "school", "major", "graduation_date", "work_start_date", "claimed_insured_months",
        "verified_insured_months", "ce_professional_credits", "ce_public_credits", "insurance_pdf",
        "insurance_pdf_name", "status", "submitted_at", "due_at", "decided_at", "decided_by", "rejection_reason",
        "paid_at", "payment_code", "checks", "flag_work_years", "flag_documents",
    ]  # fmt: skip
    events = []  # (application id, at, by, actor, from, to, note) written after the applications
    outbox_seed = []  # (application id, office, submitted_at, language)
    app_id = 0
    green = Jsonb(GREEN_CHECKS)
    # Applications that the reminder sweep, the payment import and the export work on (per session).
    meta = {"batch_ids": [], "sessions": [s.pk for s in sessions]}

    def applications():
        nonlocal app_id
        for index, (session, total) in enumerate(zip(sessions, config["sessions"], strict=True)):
            opens, closes = session.registration_opens, session.registration_closes
            window = (closes - opens).total_seconds() if index else (now - opens).total_seconds()
            for status, count in status_plan(index, total):
                for _n in range(count):
                    app_id += 1
                    office = LARGE_OFFICE if status == "batch" else rng.choices(codes, weights)[0]
                    if status in ("submitted", "in_person_review", "batch") and index == 0:
                        # Offices keep up: most open work came in during the last two days; some is overdue.
                        back = rng.uniform(0, 2 * 86400) if rng.random() < 0.85 else rng.uniform(0, window)
                        submitted = now - datetime.timedelta(seconds=back)
                    else:
                        submitted = opens + datetime.timedelta(seconds=rng.uniform(0, window * 0.9))
                    due = min(submitted + datetime.timedelta(days=2), session.payment_closes)
                    # One application per candidate in the current session; returning candidates before.
                    candidate = app_id if index == 0 else ((app_id * 7919) % n_candidates) + 1
                    real_status = "submitted" if status == "batch" else status
                    decided = paid = None
                    decided_by = None
                    if real_status in ("approved", "paid", "rejected", "lapsed"):
                        decided = min(submitted + datetime.timedelta(hours=rng.uniform(1, 44)), now)
                        decided_by = rng.choice(reviewers.get(office, regional_ids))
                    if real_status == "paid":
                        paid = min(decided + datetime.timedelta(hours=rng.uniform(1, 48)), now)
                    verified = rng.choice((None, 150)) if real_status == "submitted" and status != "batch" else 150
                    flag_docs = False
                    if status == "batch":
                        meta["batch_ids"].append(app_id)
                    yield (
                        app_id, reference("A", refs), secrets.token_urlsafe(24), session.pk, office, candidate,
                        f"c{candidate}@example.com", f"138{candidate:08d}", "zh-hans" if app_id % 7 else "en",
                        "bachelor", rng.choice(SCHOOLS), rng.choice(MAJORS), datetime.date(2009, 7, 1),
                        datetime.date(2010, 8, 1), 160, verified, 60, 30,
                        f"applications/{session.year}/{secrets.token_hex(8)}.pdf", "社保缴费记录.pdf",
                        real_status, submitted, due, decided, decided_by,
                        "work_years" if real_status == "rejected" else "",
                        paid, f"PAY{app_id:010d}" if paid else "", green, False, flag_docs,
                    )  # fmt: skip
                    first = "in_person_review" if real_status == "in_person_review" else "submitted"
                    events.append((app_id, submitted, None, "candidate", "", first))
                    if decided:
                        to = "approved" if real_status in ("approved", "paid", "lapsed") else real_status
                        events.append((app_id, decided, decided_by, "staff", "submitted", to))
                    if paid:
                        events.append((app_id, paid, None, "system", "approved", "paid"))
                    elif real_status in ("withdrawn", "closed", "returned", "lapsed", "in_person_review"):
                        frm = "approved" if real_status == "lapsed" else "submitted"
                        events.append(
                            (app_id, submitted + datetime.timedelta(hours=30), None, "system", frm, real_status)
                        )  # noqa: E501
                    outbox_seed.append((app_id, office, submitted, "zh-hans" if app_id % 7 else "en"))

    Copier(Application, app_columns).copy(applications())

    # The change view scenario: one application of the large office with 20 history rows and 3 uploads.
    showcase = meta["batch_ids"][-1]
    Application.objects.filter(pk=showcase).update(
        degree_certificate="applications/showcase/degree.jpg",
        degree_certificate_name="学位证书.jpg",
        passport_copy="applications/showcase/passport.png",
        passport_copy_name="passport.png",
    )
    meta["showcase_id"] = showcase
    for n in range(19):
        events.append((showcase, now - datetime.timedelta(hours=20 - n), None, "candidate", "submitted", "submitted"))

    event_id = 0

    def event_rows():
        nonlocal event_id
        for application, moment, by, actor, frm, to in events:
            event_id += 1
            yield (event_id, application, moment, by, actor, frm, to, "")

    Copier(ApplicationEvent, ["id", "application", "at", "by", "actor", "from_status", "to_status", "note"]).copy(
        event_rows()
    )
    n_events = event_id
    events.clear()
    # The rows were copied in bulk, past the engine: the dashboard counters are counted from them.
    started = time.monotonic()
    rebuild_counters()
    log(f"dashboard counters in {time.monotonic() - started:.1f} s")

    meta.update(generate_tickets(config["tickets"], sessions, n_candidates, reviewers, regional_ids, now, rng))
    generate_outbox(config["outbox"], outbox_seed, now, rng)
    outbox_seed.clear()
    reset_sequences()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    meta["candidate_sample"] = candidate_docs[:: max(1, len(candidate_docs) // 2000)][:2000]
    meta.update({"applications": n_apps, "candidates": n_candidates, "application_events": n_events})
    return meta


def generate_tickets(total, sessions, n_candidates, reviewers, regional_ids, now, rng):
    current = sessions[0]
    codes, weights = offices_weighted()
    kinds = [
        (Kind.PASSWORD_RESET, 0.45, "P"),
        (Kind.INFO_CHANGE, 0.2, "C"),
        (Kind.EXEMPTION, 0.15, "E"),
        (Kind.REFUND, 0.12, "R"),
        (Kind.CERT_DELETION, 0.08, "D"),
    ]
    statuses = (
        ("submitted", 0.12),
        ("verified", 0.05),
        ("in_progress", 0.05),
        ("escalated", 0.03),
        ("completed", 0.65),
        ("rejected", 0.05),
        ("expired", 0.05),
    )
    refs = set()
    plan = []
    ticket_id = 0
    for kind, share, prefix in kinds:
        for status, status_share in statuses:
            if status == "escalated" and kind not in (Kind.REFUND, Kind.CERT_DELETION):
                continue
            if status == "expired" and kind not in (Kind.EXEMPTION, Kind.INFO_CHANGE):
                continue
            for _n in range(int(total * share * status_share)):
                ticket_id += 1
                plan.append((ticket_id, kind, prefix, status))
    # One candidate per ticket: the "one open request per kind" constraint holds by construction.
    stride = max(1, n_candidates // (len(plan) + 1))
    details = {kind: [] for kind, _s, _p in kinds}
    events = []

    # The rule's due time (tickets.models.due_for) per kind and Beijing day of the open requests' submission (the
    # last 9 days), computed before the COPY (it reads the calendar: no query may run while COPY streams), so that a
    # reschedule finds none to move unless the calendar changed.
    today = timezone.localtime(now, BEIJING).date()
    dues = {
        (kind, today - datetime.timedelta(days=back)): due_for(
            kind, datetime.datetime.combine(today - datetime.timedelta(days=back), datetime.time(12), tzinfo=BEIJING)
        )
        for kind, _share, _prefix in kinds
        for back in range(10)
    }

    def due_of(kind, submitted):
        return dues[(kind, timezone.localtime(submitted, BEIJING).date())]

    def tickets():
        for tid, kind, prefix, status in plan:
            office = rng.choices(codes, weights)[0]
            submitted = now - datetime.timedelta(hours=rng.uniform(1, 24 * 120))
            due = submitted + datetime.timedelta(days=5)
            session = current.pk if kind in (Kind.EXEMPTION, Kind.REFUND, Kind.INFO_CHANGE) else None
            by = rng.choice(reviewers.get(office, regional_ids))
            open_ = status in ("submitted", "verified", "in_progress", "escalated")
            if open_:
                submitted = now - datetime.timedelta(hours=rng.uniform(1, 24 * 8))
                due = due_of(kind, submitted)
            verified = submitted + datetime.timedelta(hours=20) if status not in ("submitted", "expired") else None
            escalated = submitted + datetime.timedelta(hours=30) if status == "escalated" else None
            closed = submitted + datetime.timedelta(days=3) if not open_ else None
            assigned = (
                by if status in ("verified", "in_progress", "escalated") or (closed and status != "expired") else None
            )  # noqa: E501
            details[kind].append((tid, submitted))
            events.append((tid, submitted, None, "candidate", "", "submitted"))
            if verified:
                events.append((tid, verified, by, "staff", "submitted", "verified"))
            if status not in ("submitted", "verified"):
                events.append((tid, closed or escalated or verified, by if status != "expired" else None,
                               "staff" if status != "expired" else "system", "verified", status))  # fmt: skip
            yield (
                tid, reference(prefix, refs), secrets.token_urlsafe(24), kind, office, tid * stride, session,
                f"s{session or 0}:{tid}", f"t{tid}@example.com", f"139{tid:08d}", "zh-hans", status, submitted,
                due, (submitted + datetime.timedelta(days=10)) if kind == Kind.EXEMPTION else None, assigned,
                verified, "身份证原件" if verified else "", escalated, closed,
            )  # fmt: skip

    Copier(
        Ticket,
        ["id", "reference", "status_token", "kind", "office", "candidate", "session", "scope_key", "email", "phone",
         "language", "status", "submitted_at", "due_at", "deadline", "assigned_to", "verified_at",
         "identity_verified_how", "escalated_at", "closed_at"],
    ).copy(tickets())  # fmt: skip

    Copier(PasswordReset, ["ticket", "platform", "self_service_tried"]).copy(
        (tid, rng.choice(("registration", "continuing_education")), True) for tid, _s in details[Kind.PASSWORD_RESET]
    )
    Copier(InfoChange, ["ticket", "scope", "old_name", "new_name"]).copy(
        (tid, rng.choice(("account", "registration")), "王伟", "王炜") for tid, _s in details[Kind.INFO_CHANGE]
    )
    Copier(Exemption, ["ticket", "degree", "certificate_number", "school", "graduation_date", "id_card_seen"]).copy(
        (tid, "mpacc", f"1069{tid:010d}", rng.choice(SCHOOLS), datetime.date(2015, 6, 30), True)
        for tid, _s in details[Kind.EXEMPTION]
    )
    Copier(Refund, ["ticket", "source", "payment_codes", "amounts", "paid_at"]).copy(
        (tid, "screened_list", f"PAYX{tid:08d}, PAYY{tid:08d}", "300.00, 300.00", f"{s:%Y-%m-%d %H:%M}")
        for tid, s in details[Kind.REFUND]
    )
    Copier(CertificationDeletion, ["ticket", "statement"]).copy(
        (tid, "本人注册邮箱已无法使用，申请删除信息采集记录。") for tid, _s in details[Kind.CERT_DELETION]
    )
    Copier(TicketEvent, ["id", "ticket", "at", "by", "actor", "from_status", "to_status", "note"]).copy(
        (n, *row, "") for n, row in enumerate(events, start=1)
    )
    return {"tickets": len(plan), "ticket_events": len(events)}


def generate_outbox(total, seed, now, rng):
    """The emails of past seasons and this one: receipts and decisions, almost all sent."""
    template_body = "您好：\n\n您的报名申请已收到，参考号见下。请按时缴费。\n\n新疆会计考试报名服务"

    def rows():
        n = 0
        while n < total:
            for application, office, submitted, language in seed:
                for key in ("received", "decision"):
                    n += 1
                    if n > total:
                        return
                    sent = n < total - 2_000
                    yield (
                        n, office, f"c{application}@example.com", language, "message",
                        Jsonb({"subject": "报名申请已收到", "body": template_body}),
                        f"application:{application}:{key}" if n <= 2 * len(seed) else f"bench-history:{n}",
                        "sent" if sent else "pending", 1 if sent else 0, submitted, submitted,
                        submitted if sent else None, submitted + datetime.timedelta(seconds=2) if sent else None,
                    )  # fmt: skip

    Copier(
        OutboxMessage,
        ["id", "office", "recipient", "language", "template", "context", "dedup_key", "status", "attempts",
         "created_at", "next_attempt_at", "claimed_at", "sent_at"],
    ).copy(rows())  # fmt: skip


def reset_sequences():
    with connection.cursor() as cursor:
        for model in (Candidate, Application, ApplicationEvent, Ticket, TicketEvent, OutboxMessage):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
            )
