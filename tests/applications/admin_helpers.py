"""Helpers shared by the admin tests of applications (test_admin_*.py)."""

import datetime
import uuid

from django.conf import settings
from django.contrib.messages import get_messages

from applications.models import Application, Candidate, counter_values, record_counter_changes
from core.references import new_reference
from offices.workdays import BEIJING
from tests.factories import resident_id, submit_application

CHANGELIST = "/admin/applications/application/"


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


def staff_client(client, user):
    """The test client logged in as `user`, with the admin in English (the default is Chinese)."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def change_url(application):
    return f"{CHANGELIST}{application.pk}/change/"


def decide_url(application, slug):
    return f"{CHANGELIST}{application.pk}/decide/{slug}/"


def file_url(application, field="insurance_pdf"):
    return f"{CHANGELIST}{application.pk}/file/{field}/"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def application(session, office, **changes):
    """A submitted application of a new candidate, sent on the first registration day."""
    return submit_application(session, office, now=changes.pop("now", at(2024, 6, 20, 9)), **changes)


def months_verified(app):
    """The reviewer checked the social-insurance PDF (set directly: no history line, no audit entry), so that an
    approval in the admin needs no override."""
    Application.objects.filter(pk=app.pk).update(verified_insured_months=app.claimed_insured_months)
    app.verified_insured_months = app.claimed_insured_months
    return app


def clone_applications(template, count):
    """`count` more applications like `template`, each of its own candidate, written in bulk (fast)."""
    candidate = template.candidate
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                document_type=candidate.document_type,
                document_number=resident_id(area=f"{651000 + n}"),
                name=f"{candidate.name}{n}",
                birth_date=candidate.birth_date,
                gender=candidate.gender,
            )
            for n in range(count)
        ]
    )
    skip = {"id", "reference", "status_token", "submission_key", "candidate"}
    values = {f.attname: getattr(template, f.attname) for f in Application._meta.concrete_fields if f.name not in skip}
    made = Application.objects.bulk_create(
        [
            Application(
                **values,
                candidate=new,
                reference=new_reference("T"),
                status_token=uuid.uuid4().hex,
                submission_key=uuid.uuid4().hex,
            )
            for n, new in enumerate(candidates)
        ]
    )
    record_counter_changes([(None, counter_values(row)) for row in made])  # as Application.submit does
    return made
