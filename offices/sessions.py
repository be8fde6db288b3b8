"""Staff sessions: idle timeout, a cap on their age, and ending every session of an account.

Which sessions belong to whom: Django's session rows hold only encoded data, so finding a user's rows
means decoding every row. Instead each login records its session key under the user in the cache
(`user_logged_in`), and `end_sessions(user)` deletes exactly those rows. The cache is Redis in
production (shared by all web processes and the management commands). Should the cache have lost a
key (process memory in development, eviction), the session still grants nothing: the auth backend
refuses inactive users, and StaffSessionMiddleware deletes a session whose user no longer logs in.
"""

import time
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.core.cache import cache
from django.utils.translation import gettext as _

LAST_SEEN = "portal_last_seen"  # epoch seconds of the last request, refreshed at most once a minute
LOGGED_IN_AT = "portal_logged_in_at"  # epoch seconds of the login
REFRESH_SECONDS = 60


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _cache_key(user_pk):
    return f"offices:sessions:{user_pk}"


def record_session(sender, request, user, **kwargs):
    """user_logged_in receiver: remember the new session key under the user; start the idle clock."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[LOGGED_IN_AT] = now
    session[LAST_SEEN] = now
    if session.session_key is None:
        session.save()
    store = _store()
    keys = [key for key in cache.get(_cache_key(user.pk), []) if store().exists(key)]
    keys.append(session.session_key)
    cache.set(_cache_key(user.pk), keys, timeout=settings.SESSION_COOKIE_AGE)


def end_sessions(user) -> int:
    """Delete every recorded session of `user` (server side: the cookies give no access any more)."""
    store = _store()
    keys = cache.get(_cache_key(user.pk), [])
    ended = 0
    for key in keys:
        if store().exists(key):
            store(session_key=key).delete()
            ended += 1
    cache.delete(_cache_key(user.pk))
    return ended


class StaffSessionMiddleware:
    """Logs a staff member out after PORTAL_STAFF_IDLE_MINUTES without a request, or SESSION_COOKIE_AGE after
    login; deletes sessions whose account was deactivated. Visitors without a login are not touched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            if user.is_staff:
                self._check_staff(request)
        elif SESSION_KEY in request.session:
            # Logged in once, but the account was deactivated or deleted since: end the session here too.
            request.session.flush()
        return self.get_response(request)

    def _check_staff(self, request):
        session = request.session
        now = int(time.time())
        last_seen = session.get(LAST_SEEN)
        logged_in_at = session.get(LOGGED_IN_AT, now)
        idle_limit = settings.PORTAL_STAFF_IDLE_MINUTES * 60
        if last_seen is not None and now - last_seen > idle_limit:
            logout(request)
            messages.info(
                request,
                _("You were logged out after %(minutes)d minutes without activity.")
                % {"minutes": settings.PORTAL_STAFF_IDLE_MINUTES},
            )
        elif now - logged_in_at > settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session has ended. Log in again."))
        elif last_seen is None or now - last_seen >= REFRESH_SECONDS:
            session[LAST_SEEN] = now
            session.setdefault(LOGGED_IN_AT, now)
