"""Admin login lockout (django-axes): per (username, address), and per address alone at a higher threshold.

Axes counts failures per lockout parameter set against one limit (AXES_FAILURE_LIMIT, the per-account
limit). A whole exam office shares one public address, so the address alone gets its own, much higher
limit: PORTAL_LOGIN_FAILURES_PER_IP failed logins from one address within the cool-off lock that
address for every username. The address is core.clientip.client_ip (AXES_CLIENT_IP_CALLABLE).
"""

import datetime
import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _


def cool_off(request=None) -> datetime.timedelta:
    """AXES_COOLOFF_TIME: how long a lockout lasts after the last failure (PORTAL_LOCKOUT_MINUTES)."""
    return datetime.timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)


def _recent(request):
    return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))


def address_failures(request) -> int:
    """Failed logins from the request's client address within the cool-off, across all usernames."""
    total = _recent(request).filter(ip_address=request.axes_ip_address).aggregate(n=Sum("failures_since_start"))["n"]
    return total or 0


class PortalLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus the per-address threshold.

    `get_failures` is what axes compares with AXES_FAILURE_LIMIT, both before authenticating and after a
    failure; an address over its own threshold counts as having reached that limit for every username.
    """

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        limit = settings.AXES_FAILURE_LIMIT
        if failures < limit and address_failures(request) >= settings.PORTAL_LOGIN_FAILURES_PER_IP:
            return limit
        return failures


def minutes_to_wait(request, credentials=None) -> int:
    """Whole minutes until the lockout of this request lifts (an upper bound when the address is locked)."""
    username = get_client_username(request, credentials)
    recent = _recent(request).filter(ip_address=request.axes_ip_address)
    pair_last = recent.filter(username=username).aggregate(last=Max("attempt_time"))["last"]
    address_locked = address_failures(request) >= settings.PORTAL_LOGIN_FAILURES_PER_IP
    last = recent.aggregate(last=Max("attempt_time"))["last"] if address_locked else pair_last
    cool_off = get_cool_off(request)
    if last is None:
        return math.ceil(cool_off.total_seconds() / 60)
    remaining = (last + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining / 60))


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a page in the admin's language saying how long to wait (HTTP 429)."""
    context = {
        **admin.site.each_context(request),
        "title": _("Too many failed logins"),
        "minutes": minutes_to_wait(request, credentials),
    }
    return render(request, "admin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
