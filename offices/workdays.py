"""Working days in China: chinese-calendar where it knows the year, overridden by days staff entered.

China moves working days around public holidays (调休), so a Saturday can be a working day. For a year
that neither chinese-calendar nor the entered days know, Monday to Friday counts, and the admin index
says so until the year is entered.
"""

import datetime
import zoneinfo

import chinese_calendar
from django.utils import timezone

from .models import CalendarDay

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _default_is_workday(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def _entered_days(first: datetime.date, last: datetime.date) -> dict[datetime.date, bool]:
    rows = CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind")
    return {day: kind == CalendarDay.Kind.WORKDAY for day, kind in rows}


def is_workday(day: datetime.date) -> bool:
    return _entered_days(day, day).get(day, _default_is_workday(day))


def workday_after(day: datetime.date, n: int) -> datetime.date:
    """The n-th working day after `day` (`day` itself never counts)."""
    # Long holidays (Spring Festival, National Day) are at most 9 days in a row: this window always
    # holds n working days, so the entered days are read in one query.
    entered = _entered_days(day, day + datetime.timedelta(days=3 * n + 21))
    counted = 0
    while counted < n:
        day += datetime.timedelta(days=1)
        if entered.get(day, _default_is_workday(day)):
            counted += 1
    return day


def workday_before(day: datetime.date, n: int) -> datetime.date:
    """The n-th working day before `day` (`day` itself never counts)."""
    entered = _entered_days(day - datetime.timedelta(days=3 * n + 21), day)
    counted = 0
    while counted < n:
        day -= datetime.timedelta(days=1)
        if entered.get(day, _default_is_workday(day)):
            counted += 1
    return day


def end_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=BEIJING)


def day_bounds(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end (exclusive) of the Beijing day of `moment`: a range an index on a timestamp can use."""
    start = datetime.datetime.combine(timezone.localtime(moment, BEIJING).date(), datetime.time(), tzinfo=BEIJING)
    return start, start + datetime.timedelta(days=1)


def add_workdays(moment: datetime.datetime, n: int) -> datetime.datetime:
    """The end (23:59:59 Beijing time) of the n-th working day after the day of `moment`."""
    local_day = timezone.localtime(moment, BEIJING).date()
    return end_of_day(workday_after(local_day, n))


def year_is_known(year: int) -> bool:
    return _package_knows(year) or CalendarDay.objects.filter(date__year=year).exists()


def unknown_years(years) -> list[int]:
    """Those of `years` for which working days fall back to Monday to Friday."""
    return sorted(year for year in set(years) if not year_is_known(year))


def workdays_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The working days from `first` to `last`, both included, read in one query."""
    entered = _entered_days(first, last)
    days, day = [], first
    while day <= last:
        if entered.get(day, _default_is_workday(day)):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days
