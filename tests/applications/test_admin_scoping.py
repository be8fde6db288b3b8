"""Office scoping of every application admin view, action and download: another office's objects are 404."""

import pytest

from applications.models import Application, ApplicationEvent, Status
from notifications.models import OutboxMessage
from tests.applications.admin_helpers import (
    CHANGELIST,
    application,
    change_url,
    decide_url,
    file_url,
    staff_client,
)
from tests.factories import pdf_file

pytestmark = pytest.mark.django_db

DECISION_POSTS = {
    "verified-months": {"months": "60"},
    "approve": {"note": ""},
    "reject": {"reason": "other", "note": "no"},
    "return": {"note": "fix it"},
    "in-person-done": {"note": ""},
}


@pytest.fixture
def kashgar_application(session_2024, kashgar):
    return application(session_2024, kashgar)


def unchanged(app):
    fresh = Application.objects.get(pk=app.pk)
    return (
        fresh.status == app.status
        and fresh.verified_insured_months == app.verified_insured_months
        and ApplicationEvent.objects.filter(application=app).count() == 1
    )


def test_other_office_change_history_decisions_and_download_are_404(client, kashgar_application, reviewer_urumqi):
    client = staff_client(client, reviewer_urumqi)
    app = kashgar_application
    assert client.get(change_url(app)).status_code == 404
    assert client.get(f"{CHANGELIST}{app.pk}/history/").status_code == 404
    assert client.get(file_url(app)).status_code == 404
    emails = OutboxMessage.objects.count()
    for slug, data in DECISION_POSTS.items():
        assert client.get(decide_url(app, slug)).status_code == 404, slug
        assert client.post(decide_url(app, slug), data).status_code == 404, slug
    assert unchanged(app)
    assert OutboxMessage.objects.count() == emails


def test_actions_with_another_offices_pk_change_nothing(client, kashgar_application, reviewer_urumqi, session_2024):
    app = kashgar_application
    app.record_verified_months(None, 120)  # would pass a batch approval if it were in scope
    client = staff_client(client, reviewer_urumqi)
    client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [app.pk]})
    client.post(
        CHANGELIST,
        {"action": "reject_selected", "_selected_action": [app.pk], "post": "yes", "reason": "other", "note": "x"},
    )
    client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [app.pk], "select_across": "1"})
    fresh = Application.objects.get(pk=app.pk)
    assert fresh.status == Status.SUBMITTED
    assert not ApplicationEvent.objects.filter(application=app, by=reviewer_urumqi).exists()


def test_changelist_lists_own_office_only_and_regional_sees_all(
    client, session_2024, urumqi, kashgar_application, staff
):
    own = application(session_2024, urumqi)
    html = staff_client(client, staff["reviewer_urumqi"]).get(CHANGELIST).content.decode()
    assert own.reference in html and kashgar_application.reference not in html
    html = staff_client(client, staff["reviewer_kashgar"]).get(CHANGELIST).content.decode()
    assert own.reference not in html and kashgar_application.reference in html
    client = staff_client(client, staff["regional_admin"])
    html = client.get(CHANGELIST).content.decode()
    assert own.reference in html and kashgar_application.reference in html
    assert client.get(change_url(kashgar_application)).status_code == 200
    assert client.get(file_url(kashgar_application)).status_code == 200


def test_download_is_an_attachment_with_its_content_type(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi, files={"insurance_pdf": pdf_file("社保 记录.pdf")})
    response = staff_client(client, reviewer_urumqi).get(file_url(app))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E7%A4%BE%E4%BF%9D%20%E8%AE%B0%E5%BD%95.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_download_of_a_missing_or_unknown_file_is_404(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert client.get(file_url(app, "passport_copy")).status_code == 404  # not uploaded
    assert client.get(file_url(app, "status_token")).status_code == 404  # not a file field


def test_change_view_links_files_through_the_checked_view_only(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    html = staff_client(client, reviewer_urumqi).get(change_url(app)).content.decode()
    assert f'href="{file_url(app)}"' in html
    assert "uploads.invalid" not in html
    assert app.insurance_pdf.name not in html  # the stored (random) path stays private


def test_full_document_number_only_with_its_permission(client, session_2024, urumqi, staff):
    app = application(session_2024, urumqi)
    number = app.candidate.document_number
    for username in ("reviewer_urumqi", "manager_urumqi"):
        html = staff_client(client, staff[username]).get(change_url(app)).content.decode()
        assert app.candidate.masked_document_number in html
        assert number not in html, username
    html = staff_client(client, staff["regional_admin"]).get(change_url(app)).content.decode()
    assert number in html


def test_anonymous_users_reach_nothing(client, session_2024, urumqi):
    app = application(session_2024, urumqi)
    for url in (change_url(app), file_url(app), decide_url(app, "approve")):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(decide_url(app, "approve"), {}).status_code == 302
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED
