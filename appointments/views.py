"""The candidate's side: book, move or cancel the visit of a request from its private status link."""

import datetime
from itertools import groupby

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from applications.views import submit_rate, too_many_requests

from . import booking as rules
from .models import BEIJING, BookingRefused, CounterSettings
from .visitors import by_token


def _ticket(token):
    """The request or the application of the private link (both book visits the same way)."""
    visitor = by_token(token)
    if visitor is None:
        raise Http404
    return visitor


def slot_value(slot):
    return timezone.localtime(slot.starts_at, BEIJING).isoformat()


def _days(slots):
    """[(date, [slot, ...])] for the page, each slot with its form value."""
    for slot in slots:
        slot.value = slot_value(slot)
    return [
        (day, list(group))
        for day, group in groupby(slots, key=lambda s: timezone.localtime(s.starts_at, BEIJING).date())
    ]


def _token_key(group, request):
    return request.resolver_match.kwargs["token"]


def _parse(value):
    try:
        start = datetime.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


@never_cache
# Per private link (an office's wifi is one address for many candidates): 20 changes an hour.
@ratelimit(group="appointments.visit.token", key=_token_key, rate=submit_rate, method="POST", block=False)
def visit(request, token):
    if request.method == "POST" and request.limited:
        return too_many_requests(request)
    ticket = _ticket(token)
    now = timezone.now()
    counter_settings = CounterSettings.for_office(ticket.office)
    alternatives = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cancel":
                rules.cancel(ticket, now)
                messages.success(request, _("Your visit is cancelled."))
                return redirect("appointments:visit", token=token)
            start = _parse(request.POST.get("slot"))
            if start is None:
                raise BookingRefused(_("Choose a time."), code="no_choice")
            if action == "move":
                rules.move(ticket, start, now, counter_settings)
                messages.success(request, _("Your visit is moved. A confirmation email is on its way."))
            else:
                rules.book(ticket, start, now, counter_settings)
                messages.success(request, _("Your visit is booked. A confirmation email is on its way."))
            return redirect("appointments:visit", token=token)
        except BookingRefused as refused:
            messages.error(request, refused.message)
            alternatives = _days(refused.alternatives) if refused.alternatives else None
    current = rules.current_booking(ticket)
    changeable = current is not None and counter_settings.can_change(current, now)
    problem = rules.refusal(ticket, counter_settings, now)
    can_choose = not problem and (current is None or changeable)
    slots = rules.available_slots(ticket, now, counter_settings=counter_settings) if can_choose else []
    context = {
        "ticket": ticket,
        "current": current,
        "changeable": changeable,
        "problem": problem,
        "days": _days(slots),
        "alternatives": alternatives,
        "counter_settings": counter_settings,
    }
    return render(request, "appointments/visit.html", context)
