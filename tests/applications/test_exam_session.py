import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from applications.models import ExamSession, years_before
from applications.seed import SESSION_2024
from offices.workdays import BEIJING

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REQUIRED = (
    "registration_opens",
    "registration_closes",
    "payment_closes",
    "exam_first_day",
    "exam_last_day",
    "admit_card_from",
    "admit_card_to",
)


def session_2025(**changes):
    base = {field: SESSION_2024[field] for field in REQUIRED}
    shifted = {k: v.replace(year=2025) for k, v in base.items()}
    return ExamSession(year=2025, **{**shifted, **changes})


def test_2024_session_from_data_migration_is_current():
    session = ExamSession.objects.current()
    assert session.year == 2024
    assert session.registration_closes == datetime.datetime(2024, 7, 2, 12, tzinfo=BEIJING)
    assert session.young_candidate_cutoff == datetime.date(1998, 7, 2)


def test_defaults_derived_from_the_given_dates():
    session = session_2025()
    session.full_clean()
    assert session.exemption_deadline == session.registration_closes
    assert session.duplicate_list_due == datetime.date(2025, 7, 9)
    assert session.info_change_deadline == datetime.date(2025, 8, 18)
    assert session.young_candidate_cutoff == datetime.date(1999, 7, 2)
    # 2025-07-02 is a Wednesday: three working days before is Friday 06-27.
    assert session.realname_auth_last_day == datetime.date(2025, 6, 27)
    assert (session.ce_total_credits, session.ce_professional_credits, session.ce_public_credits) == (90, 60, 30)
    assert session.review_sla_workdays == 2


def test_2024_defaults_match_the_faq():
    data = {field: SESSION_2024[field] for field in REQUIRED}
    session = ExamSession(year=2030, **data)
    session.fill_defaults()
    assert session.realname_auth_last_day == datetime.date(2024, 6, 27)
    assert session.info_change_deadline == datetime.date(2024, 8, 18)
    assert session.young_candidate_cutoff == datetime.date(1998, 7, 2)


def test_cutoff_of_29_february_is_28_february():
    assert years_before(datetime.date(2028, 2, 29), 26) == datetime.date(2002, 2, 28)
    assert years_before(datetime.date(2024, 7, 2), 26) == datetime.date(1998, 7, 2)


@pytest.mark.parametrize(
    ("changes", "field", "names"),
    [
        (
            {"payment_closes": datetime.datetime(2025, 7, 2, 11, tzinfo=BEIJING)},
            "payment_closes",
            ("registration closes", "payment closes"),
        ),
        ({"exam_last_day": datetime.date(2025, 9, 6)}, "exam_last_day", ("first exam day", "last exam day")),
        (
            {"admit_card_to": datetime.date(2025, 9, 7)},
            "exam_first_day",
            ("admit card printing to", "first exam day"),
        ),
        (
            {"exemption_deadline": datetime.datetime(2025, 7, 2, 12, 1, tzinfo=BEIJING)},
            "registration_closes",
            ("subject exemption deadline", "registration closes"),
        ),
        (
            {"realname_auth_last_day": datetime.date(2025, 7, 2)},
            "registration_closes",
            ("last day for online real-name authentication", "registration closes"),
        ),
    ],
)
def test_dates_out_of_order_are_refused_naming_the_fields(changes, field, names):
    session = session_2025(**changes)
    with pytest.raises(ValidationError) as excinfo:
        session.full_clean()
    messages = " ".join(excinfo.value.message_dict[field])
    for name in names:
        assert name in messages


def test_exactly_one_current_session():
    session = session_2025()
    session.full_clean()
    session.save()
    session.make_current()
    assert ExamSession.objects.current() == session
    assert ExamSession.objects.filter(is_current=True).count() == 1
    with pytest.raises(IntegrityError):
        ExamSession.objects.filter(year=2024).update(is_current=True)


def test_open_now_follows_the_window_to_the_second():
    session = ExamSession.objects.get(year=2024)
    before = datetime.datetime(2024, 7, 2, 11, 59, 59, tzinfo=BEIJING)
    at_close = datetime.datetime(2024, 7, 2, 12, 0, 0, tzinfo=BEIJING)
    assert session.registration_is_open(before)
    assert not session.registration_is_open(at_close)
    open_at_close = [str(label) for label, _ in session.open_now(at_close)]
    assert "Online payment" in open_at_close
    assert "Online registration" not in open_at_close


def admin_form_data(session, **overrides):
    """The change form's fields as a browser posts them (split date and time for moments)."""
    data = {}
    for field in session._meta.concrete_fields:
        value = getattr(session, field.name)
        if field.name in ("id", "is_current") or value is None:
            continue
        if isinstance(value, datetime.datetime):
            local = value.astimezone(BEIJING)
            data[f"{field.name}_0"], data[f"{field.name}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
        else:
            data[field.name] = str(value)
    data.update(overrides)
    return data


def test_admin_refuses_out_of_order_dates_with_message(client_of, regional_admin):
    client = client_of(regional_admin)
    client.cookies["django_language"] = "en"
    session = ExamSession.objects.get(year=2024)
    url = f"/admin/applications/examsession/{session.pk}/change/"
    response = client.post(url, admin_form_data(session, payment_closes_1="11:00:00"))
    assert response.status_code == 200
    assert "“registration closes” must not be after “payment closes”." in response.content.decode()
    session.refresh_from_db()
    assert session.payment_closes == datetime.datetime(2024, 7, 2, 18, tzinfo=BEIJING)

    client.cookies["django_language"] = "zh-hans"
    response = client.post(url, admin_form_data(session, payment_closes_1="11:00:00"))
    assert "不得晚于" in response.content.decode()


def test_admin_saves_valid_dates(client_of, regional_admin):
    client = client_of(regional_admin)
    session = ExamSession.objects.get(year=2024)
    url = f"/admin/applications/examsession/{session.pk}/change/"
    response = client.post(url, admin_form_data(session, payment_closes_1="17:00:00"))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.payment_closes == datetime.datetime(2024, 7, 2, 17, tzinfo=BEIJING)


def test_derived_dates_follow_a_changed_date_unless_set_by_hand(session_2024):
    """Registration extended by a day (issue 13): what is derived from its close moves with it; a date that staff set
    by hand, or change in the same edit, stays as they set it."""
    closes = session_2024.registration_closes
    assert session_2024.exemption_deadline == closes  # derived (FAQ 19)
    session = ExamSession.objects.get(pk=session_2024.pk)
    session.registration_closes = closes + datetime.timedelta(days=1)
    session.payment_closes = session_2024.payment_closes + datetime.timedelta(days=1)
    session.full_clean()

    assert session.exemption_deadline == closes + datetime.timedelta(days=1)
    assert session.duplicate_list_due == session_2024.duplicate_list_due + datetime.timedelta(days=1)
    # Wednesday 07-03: three working days before is Friday 06-28.
    assert session.realname_auth_last_day == datetime.date(2024, 6, 28)
    assert session.info_change_deadline == session_2024.info_change_deadline  # the exam did not move
    session.save()

    by_hand = closes + datetime.timedelta(hours=3)
    ExamSession.objects.filter(pk=session.pk).update(exemption_deadline=by_hand)
    session = ExamSession.objects.get(pk=session.pk)
    session.registration_closes = closes + datetime.timedelta(days=2)
    session.payment_closes = session_2024.payment_closes + datetime.timedelta(days=2)
    session.exam_first_day = session.exam_first_day + datetime.timedelta(days=7)
    session.exam_last_day = session.exam_last_day + datetime.timedelta(days=7)
    session.full_clean()
    assert session.exemption_deadline == by_hand
    assert session.info_change_deadline == session_2024.info_change_deadline + datetime.timedelta(days=7)
