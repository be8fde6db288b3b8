"""Working days in China: chinese-calendar where it knows the year, overridden by days staff entered.

China moves working days around public holidays (调休), so a Saturday can be a working day. For a year
that chinese-calendar does not know and regional staff have not marked complete (`CalendarYear`), Monday
to Friday counts minus the statutory holidays that can be computed: the fixed ones (1 January, 1 May,
1-3 October) and the lunar ones (Spring Festival eve to the third day, Qingming, Dragon Boat,
Mid-Autumn; `lunardate`). Make-up working days are never guessed: only entered days add them. The admin
index warns until the year is known.
"""

import datetime
import functools
import zoneinfo

import chinese_calendar
from django.utils import timezone
from lunardate import LunarDate

from .models import CalendarDay, CalendarYear

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# The fixed-date statutory holidays (全国年节及纪念日放假办法, as revised for 2025: 1-2 May).
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


@functools.cache
def statutory_holidays(year: int) -> frozenset[datetime.date]:
    """The statutory holidays of `year` whose dates can be computed (not the make-up arrangements)."""
    days = {datetime.date(year, month, day) for month, day in FIXED_HOLIDAYS}
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        dragon_boat, mid_autumn = LunarDate(year, 5, 5).to_solar_date(), LunarDate(year, 8, 15).to_solar_date()
    except ValueError:  # beyond lunardate's tables (1900-2099): the fixed holidays only
        return frozenset(days)
    # Spring Festival: lunar new year's eve and the first three days of the first month.
    days.update(new_year + datetime.timedelta(days=offset) for offset in (-1, 0, 1, 2))
    days.update((dragon_boat, mid_autumn, _qingming(year)))
    return frozenset(days)


def _qingming(year: int) -> datetime.date:
    """Qingming (the solar term at 15 degrees of solar longitude): 4 or 5 April, by the usual formula."""
    century_constant = 5.59 if year < 2000 else 4.81
    yy = year % 100
    return datetime.date(year, 4, int(yy * 0.2422 + century_constant) - yy // 4)


def _default_is_workday(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and day not in statutory_holidays(day.year)


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
    """From chinese-calendar, or marked complete by regional staff (entering one day is not enough)."""
    return _package_knows(year) or CalendarYear.objects.filter(year=year, complete=True).exists()


def unknown_years(years) -> list[int]:
    """Those of `years` for which working days fall back to the computed holidays (`_default_is_workday`)."""
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
