"""The dashboard's visit figures (portal/dashboard.py): a fixed number of queries whatever the number of offices,
slots or bookings: one aggregate over the visits, and for the free places one query each for the offices' settings,
their closed days, the calendar and the places booked."""

import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from offices import workdays
from offices.models import REGIONAL_OFFICE_CODE, Office

from .models import BEIJING, Booking, ClosedDay, CounterSettings, Slot, Status

ATTENDING = (Status.BOOKED, Status.CHECKED_IN, Status.NO_SHOW)


def visit_counts(user, now):
    start, end = workdays.day_bounds(now)
    on = {
        "today": Q(slot__starts_at__gte=start, slot__starts_at__lt=end),
        "tomorrow": Q(slot__starts_at__gte=end, slot__starts_at__lt=end + datetime.timedelta(days=1)),
    }
    return Booking.objects.for_user(user).aggregate(
        today=Count("pk", filter=on["today"] & Q(status__in=ATTENDING)),
        checked_in=Count("pk", filter=on["today"] & Q(status=Status.CHECKED_IN)),
        tomorrow=Count("pk", filter=on["tomorrow"] & Q(status=Status.BOOKED)),
        displaced=Count("pk", filter=Q(status=Status.DISPLACED, slot__starts_at__gte=now)),
    )


def free_places(user, deadlines, now):
    """{deadline: free places in the visible offices' slots from now until it} for the deadlines still ahead: the
    places of the hours (counters × slots on bookable days) minus the places booked."""
    deadlines = [d for d in deadlines if d is not None and d > now]
    if not deadlines:
        return {}
    office_ids = list(Office.objects.for_user(user).exclude(code=REGIONAL_OFFICE_CODE).values_list("pk", flat=True))
    first, last = timezone.localtime(now, BEIJING).date(), timezone.localtime(max(deadlines), BEIJING).date()
    settings_of = {row.office_id: row for row in CounterSettings.objects.filter(office_id__in=office_ids)}
    closed = set(
        ClosedDay.objects.filter(office_id__in=office_ids, date__range=(first, last)).values_list("office_id", "date")
    )
    days = workdays.workdays_between(first, last)
    booked = Slot.objects.filter(office_id__in=office_ids, starts_at__gt=now).aggregate(
        **{f"d{i}": Sum("booked", filter=Q(ends_at__lte=deadline)) for i, deadline in enumerate(deadlines)}
    )
    places = dict.fromkeys(deadlines, 0)
    # In Beijing time like the slots: comparing moments of one time zone is cheap, of two is not.
    local_now = timezone.localtime(now, BEIJING)
    local = {deadline: timezone.localtime(deadline, BEIJING) for deadline in deadlines}
    for office_id in office_ids:
        counter_settings = settings_of.get(office_id) or CounterSettings(office_id=office_id)
        length = datetime.timedelta(minutes=counter_settings.slot_minutes)
        for day in days:
            if (office_id, day) in closed:
                continue
            starts = counter_settings.starts_on(day)
            if not starts or starts[-1] <= local_now:
                continue
            for deadline in deadlines:
                if starts[0] + length > local[deadline]:
                    continue
                # Most days lie wholly between now and the deadline: their slots count without looking at each.
                if starts[0] > local_now and starts[-1] + length <= local[deadline]:
                    ahead = len(starts)
                else:
                    ahead = sum(1 for start in starts if local_now < start and start + length <= local[deadline])
                places[deadline] += ahead * counter_settings.counters
    return {deadline: max(places[deadline] - (booked[f"d{i}"] or 0), 0) for i, deadline in enumerate(deadlines)}
