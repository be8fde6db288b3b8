"""No email subject carries text a candidate typed: the confirmation goes to whatever address was given, and a
subject is what a recipient reads before deciding to trust the message. Every email template of the portal is
rendered here (render_email, then the outbox's own subject and body templates) with candidate data that holds a
marker in every field the candidate controls; the marker may reach the body (the greeting), never the subject."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings

from applications.models import Candidate
from notifications.models import OutboxMessage, render_email
from tests.factories import submit_application
from tests.security.conftest import open_ticket
from tickets.models import Kind, TicketEvent

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
MARK = "zqcandidatetext"
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def email_templates():
    """Every `<app>/templates/<path>/email/<name>.<language>.txt`, as the name render_email takes."""
    names = set()
    for path in REPO.glob("*/templates/*/email/*.txt"):
        app = path.relative_to(REPO).parts[0]
        if app in (".venv", "notifications"):  # the outbox's own wrapper is rendered around each of the others
            continue
        stem = path.name.rsplit(".", 2)[0]
        names.add(f"{path.parts[-3]}/email/{stem}")
    return sorted(names)


def test_every_email_template_is_found():
    assert len(email_templates()) >= 9
    assert {"applications/email/received", "tickets/email/received"} <= set(email_templates())


@pytest.fixture
def context(session_2024, urumqi, reviewer_urumqi):
    """Objects of every email's context, whose candidate-controlled fields hold MARK (written to the models
    directly: rows stored before the name rule, or by an import, must be as safe as today's form input)."""
    application = submit_application(
        session_2024,
        urumqi,
        school=f"{MARK} school",
        major=f"{MARK} major",
        email=f"{MARK}@example.com",
    )
    ticket = open_ticket(Kind.CERT_DELETION, urumqi, {"statement": f"{MARK} statement"})
    for candidate in Candidate.objects.all():
        candidate.name = f"{MARK} name: visit https://evil.example"
        candidate.nationality = f"{MARK} nationality"
        candidate.save()
    application.refresh_from_db()
    ticket.refresh_from_db()
    reviewer_urumqi.email = "reviewer@example.com"
    reviewer_urumqi.save()
    return {
        "application": application,
        "ticket": ticket,
        "event": TicketEvent.objects.filter(ticket=ticket).last(),
        "recipient": reviewer_urumqi,
        "office": urumqi,
        "regional": False,
        "day": datetime.date(2024, 6, 21),
        "now": application.submitted_at,
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", email_templates())
def test_no_subject_carries_candidate_text(context, template, language):
    rendered = render_email(template, language, context)
    subject, body = OutboxMessage(template="message", language=language, context=rendered).render()
    assert subject.strip()
    assert MARK not in subject and "evil.example" not in subject, (template, language, subject)
    if template.split("/")[-1] in ("received", "status_change", "message", "payment_reminder"):
        assert MARK in body  # the candidate's greeting: the data did reach the template
