"""Shared builders of the visit tests: the 2024 session, Ürümqi's counter with its default hours."""

import datetime
import uuid

from offices.workdays import BEIJING
from tests.tickets.factories import open_ticket
from tickets.models import Kind


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


# Monday 2024-07-01, the day before the last registration day (exemption deadline 2024-07-02 12:00).
MONDAY = at(2024, 7, 1, 8)


def exemption(office, now=MONDAY, **contact):
    return open_ticket(Kind.EXEMPTION, office, now=now, contact=contact or None)


def password_reset(office, now=MONDAY):
    return open_ticket(Kind.PASSWORD_RESET, office, now=now)


def foreign_application(office, now=MONDAY):
    """A foreign candidate's application (passport): it goes to in-person review when submitted (FAQ 20)."""
    from applications.models import ExamSession
    from tests.factories import submit_application

    number = "E" + uuid.uuid4().hex[:10].upper()
    passport = {"document_type": "passport", "document_number": number, "nationality": "Kazakhstan"}
    return submit_application(
        ExamSession.objects.get(year=2024), office, now=now, identity_changes=passport, language="en"
    )
