"""Every printable in-person form fits one A4 page, with the candidate's signature and date line and the office's
address and hours (print CSS)."""

import io

import pytest
from pypdf import PdfReader

from tests.tickets.factories import open_ticket
from tickets.models import Kind

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("kind", list(Kind))
def test_the_in_person_form_fits_one_a4_page(page, live_server, session_2024, urumqi, kind):
    from offices.models import Office

    Office.objects.filter(pk=urumqi.pk).update(
        address_zh="乌鲁木齐市天山区某某路1号财政局大楼3楼",
        hours_zh="周一至周五 10:00–13:30，16:00–19:30",
        phone="0991-0000000",
    )
    ticket = open_ticket(kind, urumqi, session=session_2024)
    page.goto(f"{live_server.url}/zh-hans/requests/status/{ticket.status_token}/print/")
    page.emulate_media(media="print")
    text = page.locator("article.print-form").inner_text()
    assert "考生签名" in text and "日期" in text
    assert "乌鲁木齐市天山区某某路1号财政局大楼3楼" in text and "周一至周五 10:00–13:30，16:00–19:30" in text
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=False)))
    assert len(pdf.pages) == 1, f"{kind}: {len(pdf.pages)} pages"
