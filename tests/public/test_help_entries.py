"""Help entries follow the current session (date placeholders), name the platforms as the 2024 FAQ does, and show
their links as links, escaped."""

import pytest

from public.models import HelpEntry

pytestmark = pytest.mark.django_db


def section(html, number):
    start = html.index(f'id="faq-{number}"')
    return html[start : html.index("</section>", start)]


def test_help_dates_come_from_the_current_session(client, current_2025):
    zh = client.get("/zh-hans/help/").content.decode()
    en = client.get("/en/help/").content.decode()
    for number in (1, 3, 19, 20):
        assert "2024" not in section(zh, number), number
        assert "2024" not in section(en, number), number
        assert "{" not in section(zh, number) and "{" not in section(en, number)
    opens = current_2025.registration_opens
    assert f"2025年{opens.month}月{opens.day}日" in section(zh, 1)
    assert "2025年度会计专业技术中级资格考试" in section(zh, 1) and "2024年度继续教育" in section(zh, 2)
    assert "the 2025 intermediate" in section(en, 2) and "continuing education for 2024:" in section(en, 2)


def test_help_dates_in_2024_read_as_before(client, session_2024):
    zh = client.get("/zh-hans/help/").content.decode()
    assert "报名时间为2024年6月19日至2024年7月2日12:00截止" in section(zh, 1)
    en = client.get("/en/help/").content.decode()
    assert "until 12:00 on 2 July 2024" in section(en, 1)


def test_faq_16_names_the_national_accountant_service_platform(client, session_2024):
    zh = section(client.get("/zh-hans/help/").content.decode(), 16)
    assert "全国会计人员统一服务管理平台" in zh and "全国会计资格评价网" not in zh


def test_links_in_help_entries_are_links_and_escaped(client, session_2024):
    zh = section(client.get("/zh-hans/help/").content.decode(), 16)
    assert '<a href="http://kzp.mof.gov.cn/list_warning.jsp" rel="noopener noreferrer">' in zh
    HelpEntry.objects.filter(number=16).update(
        answer_zh='见 https://example.cn/a?x=1&y="2"，或<script>alert(1)</script>。'
    )
    zh = section(client.get("/zh-hans/help/").content.decode(), 16)
    assert '<a href="https://example.cn/a?x=1&amp;y=" rel="noopener noreferrer">' in zh
    assert "<script>" not in zh and "&lt;script&gt;" in zh


def test_staff_see_the_placeholders_when_editing(client, regional_admin, session_2024):
    from tests.applications.admin_helpers import staff_client

    staff_client(client, regional_admin)
    entry = HelpEntry.objects.get(number=1)
    page = client.get(f"/admin/public/helpentry/{entry.pk}/change/").content.decode()
    assert "{registration_closes}: registration closes" in page


def test_admit_card_dates_are_expected_until_announced(client, session_2024):
    home = client.get("/en/").content.decode()
    assert "Admit card printing (expected; the exact dates will be announced)" in home
    session_2024.admit_card_announced = True
    session_2024.save()
    home = client.get("/en/").content.decode()
    assert "Admit card printing" in home and "exact dates will be announced" not in home
    assert "准考证打印（预计日期，具体以通知为准）" not in client.get("/zh-hans/").content.decode()
    session_2024.admit_card_announced = False
    session_2024.save()
    assert "准考证打印（预计日期，具体以通知为准）" in client.get("/zh-hans/").content.decode()
