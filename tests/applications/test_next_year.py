import datetime
import re

import pytest

from applications.models import ExamSession
from offices.workdays import BEIJING

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = datetime.date


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


def test_next_year_copy_2024_to_2025_follows_the_rules(session_2024):
    copy = session_2024.next_year()
    assert copy.pk is None and copy.is_current is False and copy.payments_final_at is None
    assert copy.year == 2025
    # Registration: the same weekday a year on (2024-06-19 was a Wednesday), closing at noon.
    assert copy.registration_opens == at(2025, 6, 18)
    assert copy.registration_closes == at(2025, 7, 1, 12)
    assert copy.registration_closes.astimezone(BEIJING).weekday() == at(2024, 7, 2).weekday()
    assert copy.payment_closes == at(2025, 7, 1, 18)  # same day, 18:00
    assert copy.exemption_deadline == copy.registration_closes
    assert (copy.exam_first_day, copy.exam_last_day) == (D(2025, 9, 6), D(2025, 9, 8))  # Saturday to Monday
    assert copy.info_change_deadline == copy.exam_first_day - datetime.timedelta(days=20) == D(2025, 8, 17)
    assert copy.duplicate_list_due == D(2025, 7, 8)  # close + one week
    assert (copy.admit_card_from, copy.admit_card_to) == (D(2025, 9, 1), D(2025, 9, 3))
    assert copy.realname_auth_last_day == D(2025, 6, 26)  # 3 working days before Tuesday 07-01
    assert copy.young_candidate_cutoff == D(1999, 7, 1)
    assert copy.review_sla_workdays == session_2024.review_sla_workdays
    copy.full_clean()  # every ordering holds


def test_prepare_next_year_shows_the_dates_before_saving(client_of, regional_admin, session_2024):
    client = client_of(regional_admin)
    response = client.post(
        "/admin/applications/examsession/",
        {"action": "prepare_next_year", "_selected_action": [session_2024.pk]},
    )
    assert response.status_code == 302
    assert not ExamSession.objects.filter(year=2025).exists()  # nothing saved yet
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'value="2025"' in html
    assert re.search(r'name="registration_closes_0"[^>]*value="2025/07/01"', html)
    assert re.search(r'name="registration_closes_1"[^>]*value="12:00"', html)
    assert re.search(r'name="payment_closes_1"[^>]*value="18:00"', html)
    assert re.search(r'name="info_change_deadline"[^>]*value="2025/08/17"', html)
    assert not ExamSession.objects.filter(year=2025).exists()
    assert ExamSession.objects.current().year == 2024


def test_each_session_action_keeps_its_own_label_and_permission():
    """Making a session current needs the change permission; preparing the next year opens a form only."""
    from applications.admin import ExamSessionAdmin

    assert str(ExamSessionAdmin.make_current.short_description) == "Make the selected session the current one"
    assert ExamSessionAdmin.make_current.allowed_permissions == ["change"]
    assert str(ExamSessionAdmin.prepare_next_year.short_description).startswith("Prepare next year")
    assert not hasattr(ExamSessionAdmin.prepare_next_year, "allowed_permissions")
