"""Fixtures of the personal-data tests: the 2024 session, two offices, and requests filed as the public form does."""

import datetime
import io
import logging
import uuid

import pytest

from offices.models import Office
from offices.workdays import BEIJING
from tests.factories import identity


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def kashgar(db):
    return Office.objects.get(code="653100")


def open_ticket(kind, office, details, *, session=None, now=None, candidate_identity=None):
    """A request as the public form files it (status submitted)."""
    from tickets.models import Ticket

    ticket, _created = Ticket.open_request(
        kind=kind,
        office=office,
        identity=candidate_identity or identity(),
        contact={"email": "candidate@example.com", "phone": "13800000000", "language": "zh-hans"},
        detail_fields=details,
        submission_key=uuid.uuid4().hex,
        session=session,
        now=now or at(2024, 6, 20, 9),
    )
    return ticket


@pytest.fixture
def log_output():
    """What the configured console handler (the one with the masking filter) writes during the test."""
    from core.privacy import MaskDocumentNumbers

    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, MaskDocumentNumbers) for f in handler.filters)
    )
    out = io.StringIO()
    previous = handler.setStream(out)
    yield out
    handler.setStream(previous)
