"""Office data candidates rely on: an unknown phone, address or office hours reads as unknown (never as if the
notice had it), and regional staff see on the admin index which offices lack them."""

import pytest

from offices.models import Office
from tests.applications.admin_helpers import staff_client

pytestmark = pytest.mark.django_db


def card(html, code):
    start = html.index(f'id="office-{code}"')
    return html[start : html.index("</dl>", start)]


def test_unknown_office_data_is_shown_as_unknown(client):
    Office.objects.filter(code="650100").update(phone="", address_zh="", address_en="", hours_zh="", hours_en="")
    Office.objects.filter(code="653100").update(phone="0998-1234567", hours_zh="周一至周五 10:00-18:00")
    zh = client.get("/zh-hans/offices/").content.decode()
    assert card(zh, "650100").count('<span class="unknown">暂未公布</span>') == 3
    assert "详见报名公告" not in zh
    assert "0998-1234567" in card(zh, "653100") and "周一至周五 10:00-18:00" in card(zh, "653100")
    en = client.get("/en/offices/").content.decode()
    assert card(en, "650100").count('<span class="unknown">not known yet</span>') == 3


def test_regional_staff_see_which_offices_lack_data(client, regional_admin, reviewer_urumqi):
    Office.objects.update(phone="0991-1", address_zh="某路1号", hours_zh="周一至周五")
    Office.objects.filter(code="650100").update(phone="", hours_zh="")
    page = staff_client(client, regional_admin).get("/admin/").content.decode()
    assert "offices-missing-data" in page
    assert "650100 乌鲁木齐市财政局会计科</a>: phone, office hours" in page
    assert "653100" not in page.split("offices-missing-data")[1].split("</li></ul>")[0]
    assert "offices-missing-data" not in staff_client(client, reviewer_urumqi).get("/admin/").content.decode()
