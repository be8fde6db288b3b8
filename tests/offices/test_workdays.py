import datetime

import pytest

from offices.models import CalendarDay, CalendarYear
from offices.workdays import BEIJING, add_workdays, is_workday, unknown_years, workday_after, workday_before

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (D(2024, 6, 28), D(2024, 7, 2)),  # Friday → Tuesday
        (D(2024, 9, 13), D(2024, 9, 18)),  # Saturday 09-14 is a make-up working day
        (D(2024, 9, 30), D(2024, 10, 9)),  # National Day week
    ],
)
def test_domain_examples_two_working_days_after(submitted, due):
    assert workday_after(submitted, 2) == due


def test_add_workdays_ends_at_end_of_day_beijing():
    # 23:30 UTC on Thursday 06-27 is already Friday 06-28 in Beijing.
    moment = datetime.datetime(2024, 6, 27, 23, 30, tzinfo=datetime.UTC)
    assert add_workdays(moment, 2) == datetime.datetime(2024, 7, 2, 23, 59, 59, tzinfo=BEIJING)


def test_make_up_saturday_and_holiday_from_package():
    assert is_workday(D(2024, 9, 14))  # Saturday, 调休
    assert not is_workday(D(2024, 10, 1))  # National Day
    assert not is_workday(D(2024, 6, 29))  # ordinary Saturday


def test_working_days_before():
    assert workday_before(D(2024, 7, 2), 3) == D(2024, 6, 27)


def test_entered_day_overrides_package():
    CalendarDay.objects.create(date=D(2024, 7, 1), kind=CalendarDay.Kind.HOLIDAY, note="office closed")
    assert not is_workday(D(2024, 7, 1))
    assert workday_after(D(2024, 6, 28), 2) == D(2024, 7, 3)


def test_2027_fallback_skips_new_year_and_national_day():
    assert unknown_years([2024, 2027]) == [2027]
    assert not is_workday(D(2027, 1, 1))  # a Friday, but 1 January is a holiday by law
    assert workday_after(D(2026, 12, 30), 2) == D(2027, 1, 4)  # 12-31 Thursday, then Monday
    assert not is_workday(D(2027, 10, 1))  # Friday, National Day
    assert workday_after(D(2027, 9, 30), 1) == D(2027, 10, 4)  # 10-04 is a Monday
    assert is_workday(D(2027, 10, 4))  # only 1-3 October are fixed; the rest of the week is entered


def test_2027_fallback_lunar_holidays():
    assert not is_workday(D(2027, 2, 5))  # Spring Festival eve (Friday)
    assert not is_workday(D(2027, 2, 8))  # third day of the first lunar month (Monday)
    assert not is_workday(D(2027, 4, 5))  # Qingming (Monday)
    assert not is_workday(D(2027, 6, 9))  # Dragon Boat (Wednesday)
    assert not is_workday(D(2027, 9, 15))  # Mid-Autumn (Wednesday)
    assert not is_workday(D(2027, 2, 6))  # a Saturday stays off: make-up days are only entered


def test_make_up_working_days_only_entered():
    CalendarDay.objects.create(date=D(2027, 2, 20), kind=CalendarDay.Kind.WORKDAY, note="make-up day")
    assert is_workday(D(2027, 2, 20))
    assert not is_workday(D(2027, 2, 27))  # another Saturday: nothing entered


def test_year_marked_complete_is_known_one_entered_day_is_not():
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, note="New Year")
    assert unknown_years([2027]) == [2027]
    CalendarYear.objects.create(year=2027, complete=False)
    assert unknown_years([2027]) == [2027]
    CalendarYear.objects.filter(year=2027).update(complete=True)
    assert unknown_years([2027]) == []


def test_2027_with_entered_days():
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, note="New Year")
    CalendarDay.objects.create(date=D(2027, 1, 2), kind=CalendarDay.Kind.WORKDAY, note="make-up day")
    assert not is_workday(D(2027, 1, 1))
    assert is_workday(D(2027, 1, 2))
    assert workday_after(D(2026, 12, 31), 2) == D(2027, 1, 4)


def test_year_far_beyond_any_release_is_unknown():
    assert unknown_years([2999]) == [2999]
    assert workday_after(D(2999, 1, 1), 1) == D(2999, 1, 2)  # 2999-01-01 is a Tuesday


def test_admin_index_warns_about_unknown_year(client_of, regional_admin, time_machine):
    time_machine.move_to(datetime.datetime(2027, 3, 1, 9, tzinfo=BEIJING))
    response = client_of(regional_admin).get("/admin/")
    assert response.status_code == 200
    assert "2027" in response.content.decode()
    assert 'class="warning"' in response.content.decode()

    assert 'role="alert"' in response.content.decode()

    CalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY)
    response = client_of(regional_admin).get("/admin/")
    # One entered day does not make the year known: the calendar's alert stays.
    assert 'role="alert"' in response.content.decode()

    response = client_of(regional_admin).post("/admin/offices/calendaryear/add/", {"year": 2027, "complete": "on"})
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).marked_complete_by == regional_admin.username
    response = client_of(regional_admin).get("/admin/")
    # The dashboard's other warnings (offices without phone, ...) stay; the calendar's alert is gone.
    assert 'role="alert"' not in response.content.decode()
