"""The printable in-person form: reference as text and QR code, candidate data masked, the request, the
materials checklist, the office's address and hours, the deadline."""

import re

import pytest
import segno

from tickets.models import Ticket

from .request_data import IN_WINDOW, PASSWORD_SHAPE, file_request, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_window(time_machine):
    time_machine.move_to(IN_WINDOW)


def print_page(client, ticket, language="en"):
    response = client.get(f"/{language}/requests/status/{ticket.status_token}/print/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def filed(client, slug, language="en", **changes):
    response, data = file_request(client, slug, language, **changes)
    assert response.status_code == 302, response.content.decode()
    return Ticket.objects.get(submission_key=data["submission_key"])


def test_the_print_page_has_the_reference_qr_code_materials_and_office(client):
    ticket = filed(client, "exemption")
    html = print_page(client, ticket)

    assert ticket.reference in html
    # The QR code is inline SVG that carries the reference only, never the private link.
    svg = re.search(r"<svg[^>]*class=\"qr-code\".*?</svg>", html, re.S).group(0)
    expected = segno.make(ticket.reference, error="m").svg_inline(
        scale=4, svgclass="qr-code", title=ticket.reference, omitsize=True
    )
    assert svg == expected
    assert ticket.status_token not in svg
    materials = html.split('id="materials"')[1].split("</section>")[0]
    for item in (
        "Identity document (ID card): original and copy",
        "Degree certificate (MPAcc or DPAcc): original and copy",
        "学信网",
        "Exemption application form",
    ):
        assert item in materials
    assert materials.count('class="tick-box"') == 4
    office = ticket.office
    assert office.name_en in html and office.address_en in html and office.hours_en in html
    assert "2024-07-02 12:00 (Beijing time)" in html
    assert "1075532015000123" in html and "新疆财经大学" in html


def test_the_document_number_is_masked(client):
    ticket = filed(client, "password-reset")
    number = ticket.candidate.document_number
    html = print_page(client, ticket)
    assert number not in html
    assert f"{number[:6]}********{number[-4:]}" in html
    assert "张三" in html


def test_an_info_change_masks_both_document_numbers(client):
    from tests.factories import resident_id

    new_number = resident_id("19900101", area="650103")
    ticket = filed(
        client,
        "info-change",
        changes=["document_number", "photo"],
        new_document_number=new_number,
        new_photo=png_upload(),
    )
    html = print_page(client, ticket)
    old_number = ticket.candidate.document_number
    assert old_number not in html and new_number not in html
    assert f"{old_number[:6]}********{old_number[-4:]}" in html
    assert f"{new_number[:6]}********{new_number[-4:]}" in html
    assert "New photo uploaded" in html


def test_the_chsi_record_is_listed_only_for_graduates_of_2002_or_later(client):
    older = filed(client, "exemption", graduation_date="2001-06-30")
    assert "学信网" not in print_page(client, older).split('id="materials"')[1]
    newer = filed(client, "exemption", graduation_date="2002-01-01")
    assert "学信网" in print_page(client, newer).split('id="materials"')[1]


def test_the_print_page_in_chinese_shows_the_chinese_office_address(client):
    ticket = filed(client, "refund", "zh-hans")
    html = print_page(client, ticket, "zh-hans")
    assert 'lang="zh-hans"' in html
    assert ticket.office.address_zh in html and ticket.office.hours_zh in html
    assert ticket.reference in html
    assert "receipt.pdf" in html


def test_the_print_button_uses_a_static_script_and_no_inline_javascript(client):
    html = print_page(client, filed(client, "certification-deletion"))
    assert '<script src="/static/portal/print.js"' in html
    assert "onclick" not in html.lower()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "print command" in html


def test_a_password_reset_form_never_shows_a_password(client):
    ticket = filed(client, "password-reset", platform="national", self_service_tried="on")
    html = print_page(client, ticket)
    assert "National Accountant Service Platform" in html
    assert "change it at your first login" in html.lower()
    assert not PASSWORD_SHAPE.search(html)


def test_an_unknown_token_is_404(client):
    assert client.get("/en/requests/status/not-a-token/print/").status_code == 404
