"""The help entries that name a request's form (FAQ 6: the written statement; FAQ 19: 免试科目申请表) link it."""

import pytest

from .test_help_entries import section

pytestmark = pytest.mark.django_db


def test_faq_6_and_19_link_their_forms(client, session_2024):
    zh = client.get("/zh-hans/help/").content.decode()
    assert 'href="/zh-hans/requests/exemption/form.docx?language=zh-hans"' in section(zh, 19)
    assert 'href="/zh-hans/requests/certification-deletion/form.docx?language=zh-hans"' in section(zh, 6)
    assert "form.docx" not in section(zh, 1)
    assert "?language=en" not in zh

    en = client.get("/en/help/").content.decode()
    assert 'href="/en/requests/exemption/form.docx?language=zh-hans"' in section(en, 19)
    assert 'href="/en/requests/exemption/form.docx?language=en"' in section(en, 19)
    assert "English translation for reference (DOCX)" in section(en, 19)


def test_the_linked_download_is_the_form(client, session_2024):
    response = client.get("/en/requests/exemption/form.docx?language=zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
