"""Office scoping of every request admin view, step, action and download: another office's tickets are 404."""

import pytest

from notifications.models import OutboxMessage
from tests.tickets.factories import (
    DUPLICATES,
    ESCALATIONS,
    EXEMPTION_SUMMARY,
    INBOX,
    change_url,
    file_url,
    open_ticket,
    rows,
    staff_client,
    step_url,
    with_file,
)
from tickets.models import Kind, KindSetting, Status, Ticket, TicketEvent, TicketMessage
from tickets.staff_views import STEPS

pytestmark = pytest.mark.django_db

STEP_POSTS = {
    "verify-reset-complete": {"method": "id_card", "reset_done": "on"},
    "verify-start": {"method": "id_card"},
    "verify-escalate": {"method": "id_card", "note": "x"},
    "reset-complete": {"reset_done": "on"},
    "verify": {"method": "other", "other": "ID card"},
    "start": {"note": ""},
    "escalate": {"note": "x"},
    "record-reset": {},
    "materials": {"id_card_seen": "on"},
    "link-application": {"application": "1"},
    "mark-deleted": {},
    "nontax-check": {},
    "record-refund": {"amount": "1", "date": "2024-07-20", "voucher_number": "V"},
    "complete": {"note": ""},
    "reject": {"note": "no"},
    "take": {},
    "assign": {"assignee": "1"},
    "message": {"body": "hello"},
    "note": {"body": "note"},
}


@pytest.fixture
def kashgar_ticket(kashgar):
    return open_ticket(Kind.INFO_CHANGE, kashgar, **with_file("proof", "proof.pdf"))


def unchanged(ticket):
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.status == Status.SUBMITTED
        and fresh.assigned_to_id is None
        and TicketEvent.objects.filter(ticket=ticket).count() == 1
        and not TicketMessage.objects.filter(ticket=ticket).exists()
    )


def test_every_step_is_listed_here():
    assert set(STEP_POSTS) == set(STEPS)


def test_other_office_change_history_steps_and_download_are_404(client, kashgar_ticket, reviewer_urumqi):
    client = staff_client(client, reviewer_urumqi)
    ticket = kashgar_ticket
    assert client.get(change_url(ticket)).status_code == 404
    assert client.get(f"{INBOX}{ticket.pk}/history/").status_code == 404
    assert client.get(file_url(ticket, "proof")).status_code == 404
    emails = OutboxMessage.objects.count()
    for slug, data in STEP_POSTS.items():
        assert client.get(step_url(ticket, slug)).status_code == 404, slug
        assert client.post(step_url(ticket, slug), data).status_code == 404, slug
    assert unchanged(ticket)
    assert OutboxMessage.objects.count() == emails


def test_take_action_with_another_offices_pk_changes_nothing(client, kashgar_ticket, reviewer_urumqi):
    client = staff_client(client, reviewer_urumqi)
    client.post(INBOX, {"action": "take_selected", "_selected_action": [kashgar_ticket.pk]})
    client.post(INBOX, {"action": "take_selected", "_selected_action": [kashgar_ticket.pk], "select_across": "1"})
    assert unchanged(kashgar_ticket)


def test_take_action_on_own_office(client, urumqi, reviewer_urumqi):
    own = open_ticket(Kind.PASSWORD_RESET, urumqi)
    staff_client(client, reviewer_urumqi).post(INBOX, {"action": "take_selected", "_selected_action": [own.pk]})
    assert Ticket.objects.get(pk=own.pk).assigned_to == reviewer_urumqi


def test_inbox_lists_own_office_only_and_regional_sees_all(client, urumqi, kashgar_ticket, staff):
    own = open_ticket(Kind.PASSWORD_RESET, urumqi)
    assert rows(staff_client(client, staff["reviewer_urumqi"]).get(INBOX)) == [own.reference]
    assert rows(staff_client(client, staff["reviewer_kashgar"]).get(INBOX)) == [kashgar_ticket.reference]
    regional = staff_client(client, staff["regional_admin"])
    assert set(rows(regional.get(INBOX))) == {own.reference, kashgar_ticket.reference}
    assert regional.get(change_url(kashgar_ticket)).status_code == 200
    assert regional.get(f"{INBOX}{kashgar_ticket.pk}/history/").status_code == 200
    assert regional.get(file_url(kashgar_ticket, "proof")).status_code == 200


def test_own_office_history_and_download(client, kashgar_ticket, reviewer_kashgar):
    client = staff_client(client, reviewer_kashgar)
    assert client.get(f"{INBOX}{kashgar_ticket.pk}/history/").status_code == 200
    assert client.get(file_url(kashgar_ticket, "proof")).status_code == 200


def test_regional_pages_are_refused_to_local_staff(client, staff):
    for name in ("reviewer_urumqi", "manager_urumqi"):
        local = staff_client(client, staff[name])
        assert local.get(ESCALATIONS).status_code == 403, name
        assert local.get(DUPLICATES).status_code == 403, name
        assert local.get(f"{DUPLICATES}import/").status_code == 403, name
    reviewer = staff_client(client, staff["reviewer_urumqi"])
    assert reviewer.get(EXEMPTION_SUMMARY).status_code == 403


def test_canned_replies_regional_edit_others_view(client, staff):
    reviewer = staff_client(client, staff["reviewer_urumqi"])
    assert reviewer.get("/admin/tickets/cannedreply/").status_code == 200
    assert reviewer.get("/admin/tickets/cannedreply/add/").status_code == 403
    regional = staff_client(client, staff["regional_admin"])
    response = regional.post(
        "/admin/tickets/cannedreply/add/",
        {"title": "Bring ID", "kind": "", "body_zh": "请携带身份证原件。", "body_en": "Bring your ID card."},
    )
    assert response.status_code == 302
    assert regional.get("/admin/tickets/cannedreply/").status_code == 200


def test_kind_settings_regional_edit_the_working_days(client, staff):
    setting, _created = KindSetting.objects.get_or_create(kind=Kind.REFUND, defaults={"sla_workdays": 10})
    url = f"/admin/tickets/kindsetting/{setting.pk}/change/"
    assert staff_client(client, staff["reviewer_urumqi"]).post(url, {"sla_workdays": "1"}).status_code == 403
    regional = staff_client(client, staff["regional_admin"])
    assert regional.post(url, {"sla_workdays": "12"}).status_code == 302
    assert KindSetting.sla_for(Kind.REFUND) == 12
    assert regional.get("/admin/tickets/kindsetting/add/").status_code == 403


def test_full_document_number_view_of_a_ticket_is_recorded(client_of, regional_admin, reviewer_urumqi, urumqi):
    from auditlog.models import LogEntry

    from tests.tickets.factories import open_ticket
    from tickets.models import Kind

    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    assert ticket.candidate.document_number in client_of(regional_admin).get(url).content.decode()
    access = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(ticket.candidate.pk))
    assert access.count() == 1
    assert access.get().additional_data["ticket"] == ticket.reference
    assert ticket.candidate.document_number not in client_of(reviewer_urumqi).get(url).content.decode()
    assert access.count() == 1
