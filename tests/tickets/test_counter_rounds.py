"""The counter in the fewest pages: combined steps (several transitions of the engine in one transaction on the
locked row), verification methods as choices, and one email per change that gives the candidate a next step."""

import pytest

from notifications.models import OutboxMessage
from tests.tickets.factories import change_url, open_ticket, staff_client, step_url
from tickets.models import Kind, Refund, Status, Ticket, TicketClosed, TicketEvent

pytestmark = pytest.mark.django_db


def post_step(client, ticket, slug, data):
    response = client.post(step_url(ticket, slug), data, follow=True)
    assert response.redirect_chain == [(change_url(ticket), 302)], response.content.decode()[-2000:]
    return [str(message) for message in response.context["messages"]]


def step_slugs(client, ticket):
    response = client.get(change_url(ticket))
    return [url.rstrip("/").rsplit("/", 1)[-1] for url, _label, _regional in response.context["steps"]]


def emails_after_filing(ticket):
    keys = OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:").values_list("dedup_key")
    keys = [key for (key,) in keys]
    return [key for key in keys if not key.endswith(":received")]


def statuses(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("to_status", flat=True))


def test_a_password_reset_is_verified_reset_and_completed_on_one_page(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert step_slugs(client, ticket)[0] == "verify-reset-complete"

    page = client.get(step_url(ticket, "verify-reset-complete")).content.decode()
    assert 'type="radio"' in page and "Resident ID card read with the card reader" in page
    assert "duplicate-payment list" not in page  # that method is for screened refunds only

    messages = post_step(
        client, ticket, "verify-reset-complete", {"method": "id_card_reader", "reset_done": "on", "note": ""}
    )
    assert messages == [
        f"{ticket.reference}: identity verified, password reset recorded, completed; the candidate is told by email."
    ]
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED and ticket.password_reset.reset_done_at is not None
    assert ticket.identity_verified_how == "Resident ID card read with the card reader"
    assert statuses(ticket) == ["submitted", "verified", "verified", "completed"]
    # One email: the completion, which tells the candidate to change the password at the first login.
    assert len(emails_after_filing(ticket)) == 1


def test_the_combined_step_needs_the_reset_ticked_and_writes_nothing_without_it(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)
    response = client.post(step_url(ticket, "verify-reset-complete"), {"method": "id_card"})
    assert response.status_code == 200 and response.context["form"].errors["reset_done"]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED


def test_a_refusal_in_the_middle_of_a_combined_step_rolls_back_every_transition(
    client, urumqi, reviewer_urumqi, monkeypatch
):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)

    def refuse(self, by, note="", now=None):
        raise TicketClosed("refused at completion")

    monkeypatch.setattr(Ticket, "complete", refuse)
    messages = post_step(client, ticket, "verify-reset-complete", {"method": "id_card", "reset_done": "on"})
    assert messages == ["refused at completion"]
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED and ticket.password_reset.reset_done_at is None
    assert statuses(ticket) == ["submitted"] and emails_after_filing(ticket) == []


def test_reset_and_complete_on_one_page_after_verification(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    ticket.verify(reviewer_urumqi, "ID card")
    client = staff_client(client, reviewer_urumqi)
    assert step_slugs(client, ticket)[0] == "reset-complete"
    post_step(client, ticket, "reset-complete", {"reset_done": "on", "note": ""})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.COMPLETED
    assert len(emails_after_filing(ticket)) == 1


def test_other_needs_words_and_keeps_them(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.INFO_CHANGE, urumqi)
    client = staff_client(client, reviewer_urumqi)
    response = client.post(step_url(ticket, "verify-start"), {"method": "other", "other": "  "})
    assert response.status_code == 200 and response.context["form"].errors["other"]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED

    post_step(client, ticket, "verify-start", {"method": "other", "other": "household register original"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to, ticket.identity_verified_how) == (
        Status.IN_PROGRESS,
        reviewer_urumqi,
        "household register original",
    )
    # Verifying and starting give the candidate, who stands at the counter, nothing to do: no email.
    assert emails_after_filing(ticket) == []


def test_verify_and_escalate_in_one_step_emails_once(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.CERT_DELETION, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert "verify-start" not in step_slugs(client, ticket)
    response = client.post(step_url(ticket, "verify-escalate"), {"method": "id_card", "note": ""})
    assert response.status_code == 200 and Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED
    post_step(client, ticket, "verify-escalate", {"method": "id_card", "note": "statement received"})
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED and statuses(ticket) == ["submitted", "verified", "escalated"]
    assert len(emails_after_filing(ticket)) == 1


def screened_refund(office):
    return open_ticket(Kind.REFUND, office, source=Refund.Source.SCREENED_LIST, payment_codes="P1", amounts="200")


def test_a_screened_duplicate_payment_does_not_tell_the_candidate_to_come(urumqi):
    ticket = screened_refund(urumqi)
    for language in ("zh-hans", "en"):
        ticket.language = language
        Ticket.objects.filter(pk=ticket.pk).update(language=language)
        OutboxMessage.objects.filter(dedup_key=f"ticket:{ticket.pk}:received").delete()
        ticket.email_candidate("tickets/email/received", key="received")
        email = OutboxMessage.objects.get(dedup_key=f"ticket:{ticket.pk}:received").context
        text = email["subject"] + email["body"]
        for wrong in ("在线提交", "现场办理", "携带", "filed online", "Come in person", "申请已受理"):
            assert wrong not in text, (language, wrong)
        assert ("无需提交申请" in text) or ("do not need to file a request" in text)


def test_a_candidates_own_refund_report_still_says_come_in_person(urumqi):
    ticket = open_ticket(Kind.REFUND, urumqi)
    email = OutboxMessage.objects.get(dedup_key=f"ticket:{ticket.pk}:received").context
    assert "现场办理" in email["body"]


def test_a_screened_refund_is_verified_from_the_list(client, urumqi, reviewer_urumqi):
    ticket = screened_refund(urumqi)
    client = staff_client(client, reviewer_urumqi)
    form = client.get(step_url(ticket, "verify-escalate")).context["form"]
    assert form.fields["method"].initial == "screened_list"
    post_step(client, ticket, "verify-escalate", {"method": "screened_list", "note": "on the list"})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ESCALATED


def test_labels_end_with_a_full_width_colon_in_chinese(client, urumqi, reviewer_urumqi):
    from django.conf import settings

    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client.force_login(reviewer_urumqi)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(step_url(ticket, "verify-reset-complete")).content.decode()
    assert "身份核验方式：</legend>" in page or "身份核验方式：</label>" in page
    assert "身份核验方式:" not in page


def test_a_screened_refunds_status_page_asks_for_no_visit(client, urumqi):
    ticket = screened_refund(urumqi)
    page = client.get(f"/en/requests/status/{ticket.status_token}/").content.decode()
    assert "Registered from the duplicate-payment list" in page and "you need not come" in page
    assert "Submitted: come to the office in person" not in page and "In-person form to print" not in page
    own = open_ticket(Kind.REFUND, urumqi)
    page = client.get(f"/en/requests/status/{own.status_token}/").content.decode()
    assert "Submitted: come to the office in person" in page and "In-person form to print" in page
