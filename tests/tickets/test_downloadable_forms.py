"""The requests' downloadable forms (FAQ 19's 免试科目申请表, FAQ 6's written statement): a DOCX that python-docx reads
back, filled from the current session (never hard-coded dates) and, from a request's pages, from the request; in
English when translated; one A4 page with the signature and date line and the office's address and hours; linked
from the request pages; its text edited by regional staff only, a wrong placeholder refused in Chinese."""

import datetime
import io
import re
from urllib.parse import quote

import pytest
from docx import Document
from docx.shared import Mm

from applications.models import ExamSession
from offices.workdays import BEIJING
from tickets import documents
from tickets.models import FormTemplate, Kind, Ticket

from .factories import open_ticket
from .request_data import IN_WINDOW, file_request

pytestmark = pytest.mark.django_db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ADMIN = "/admin/tickets/formtemplate/"


def docx_text(response):
    """All the text of a downloaded DOCX: paragraphs, then the table cells."""
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert "no-store" in response["Cache-Control"]
    document = Document(io.BytesIO(response.content))
    lines = [paragraph.text for paragraph in document.paragraphs]
    lines += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(lines)


def download(client, path, **params):
    return client.get(path, params)


def test_the_exemption_form_is_a_docx_with_the_current_session(client, session_2024):
    response = download(client, "/zh-hans/requests/exemption/form.docx")
    text = docx_text(response)
    assert "2024年度会计专业技术中级资格考试免试科目申请表" in text
    assert "请于2024年6月19日至2024年7月2日12:00前" in text
    assert "财务管理" in text and "学信网" in text
    assert "{" not in text and "}" not in text
    # The candidate's signature and date line, and where the offices' addresses and hours are.
    assert "考生签名：" in text and "日期：" in text
    assert "http://testserver/zh-hans/offices/" in text
    # RFC 5987 for the Chinese name, an ASCII name beside it.
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="exemption-application-form-2024.docx"; ')
    assert f"filename*=utf-8''{quote('2024年度会计专业技术中级资格考试免试科目申请表.docx')}" in disposition


def test_changing_the_session_changes_the_document(client, current_2025):
    text = docx_text(download(client, "/zh-hans/requests/exemption/form.docx"))
    assert "2025年度会计专业技术中级资格考试免试科目申请表" in text
    assert "2025年7月2日12:00" in text and "2024" not in text

    current_2025.exemption_deadline = datetime.datetime(2025, 6, 30, 18, tzinfo=BEIJING)
    current_2025.save()
    text = docx_text(download(client, "/zh-hans/requests/exemption/form.docx"))
    assert "至2025年6月30日18:00前" in text and "2025年7月2日12:00" not in text


def test_the_certification_deletion_statement(client, session_2024):
    response = download(client, "/zh-hans/requests/certification-deletion/form.docx")
    text = docx_text(response)
    assert "全国会计人员统一服务管理平台" in text and "删除" in text and "考生签名：" in text
    assert 'filename="certification-deletion-statement-2024.docx"' in response["Content-Disposition"]


def test_no_form_for_other_kinds(client, session_2024):
    assert client.get("/zh-hans/requests/password-reset/form.docx").status_code == 404
    assert client.get("/zh-hans/requests/nothing/form.docx").status_code == 404


def test_english_is_a_translation_and_the_chinese_form_stays_available(client, session_2024):
    english = docx_text(download(client, "/en/requests/exemption/form.docx"))
    assert "Application for subject exemption, intermediate accounting qualification exam 2024" in english
    assert "Translation for reference only" in english
    assert "until 12:00 on 2 July 2024" in english and "Financial Management" in english
    assert "Candidate's signature:" in english
    chinese = docx_text(download(client, "/en/requests/exemption/form.docx", language="zh-hans"))
    assert "免试科目申请表" in chinese and "Translation" not in chinese


def test_without_english_texts_the_english_page_gets_the_chinese_form(client, session_2024):
    FormTemplate.objects.filter(kind=Kind.EXEMPTION).update(title_en="")
    text = docx_text(download(client, "/en/requests/exemption/form.docx", language="en"))
    assert "免试科目申请表" in text


def test_the_form_fits_one_a4_page(session_2024):
    for template in FormTemplate.objects.all():
        for language in ("zh-hans", "en"):
            document = Document(io.BytesIO(documents.render(template, session_2024, language)))
            section = document.sections[0]
            assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
            assert section.top_margin <= Mm(15) and section.left_margin <= Mm(18)
            # A proxy for one page (CI has no word processor): 10.5 pt lines, few enough of them; A4 less the
            # margins holds about 45. Converted with LibreOffice, every form (blank and filled with long values, zh
            # and en) printed on one page when this was written.
            rows = sum(len(table.rows) for table in document.tables)
            paragraphs = document.paragraphs
            lines = sum(1 + len(p.text) // (45 if language == "zh-hans" else 95) for p in paragraphs)
            assert lines + rows * 1.5 <= 45, (template.kind, language, lines, rows)


def test_a_request_s_form_is_filled_with_the_request(client, session_2024, urumqi):
    ticket = open_ticket(Kind.EXEMPTION, urumqi)
    text = docx_text(download(client, f"/en/requests/status/{ticket.status_token}/form.docx", language="zh-hans"))
    assert ticket.reference in text and ticket.candidate.name in text
    assert "1075532015000123" in text and "新疆财经大学" in text and "2015年6月30日" in text
    office = ticket.office
    assert office.name_zh in text and office.address_zh in text and office.hours_zh in text
    assert "13800000000" in text
    # The document number is not printed: the candidate writes it by hand.
    assert ticket.candidate.document_number not in text

    deletion = open_ticket(Kind.CERT_DELETION, urumqi)
    text = docx_text(download(client, f"/zh-hans/requests/status/{deletion.status_token}/form.docx"))
    assert "我忘记了全国平台账号的邮箱" in text and deletion.reference in text

    reset = open_ticket(Kind.PASSWORD_RESET, urumqi)
    assert client.get(f"/zh-hans/requests/status/{reset.status_token}/form.docx").status_code == 404
    assert client.get("/zh-hans/requests/status/not-a-token/form.docx").status_code == 404


# The public pages link the download ----------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "language"), [("exemption", "zh-hans"), ("certification-deletion", "en")])
def test_the_request_form_pages_link_the_download(client, session_2024, time_machine, slug, language):
    time_machine.move_to(IN_WINDOW)
    html = client.get(f"/{language}/requests/{slug}/new/").content.decode()
    assert f'href="/{language}/requests/{slug}/form.docx?language=zh-hans"' in html
    assert (f'href="/en/requests/{slug}/form.docx?language=en"' in html) == (language == "en")
    index = client.get(f"/{language}/requests/").content.decode()
    assert f"/{language}/requests/{slug}/form.docx?language=zh-hans" in index
    assert "/requests/password-reset/form.docx" not in index


def test_a_request_s_pages_link_its_filled_form(client, session_2024, time_machine):
    time_machine.move_to(IN_WINDOW)
    response, _data = file_request(client, "exemption", "en")
    assert response.status_code == 302
    ticket = Ticket.objects.latest("pk")
    print_path = f"/en/requests/status/{ticket.status_token}/print/"
    link = f"/en/requests/status/{ticket.status_token}/form.docx?language=zh-hans"
    for page in (response["Location"], f"/en/requests/status/{ticket.status_token}/", print_path):
        html = client.get(page).content.decode()
        assert link in html, page
        assert f"/en/requests/status/{ticket.status_token}/form.docx?language=en" in html
    # On the print page the link is not printed: the A4 form stays one page.
    html = client.get(print_path).content.decode()
    actions = html.split('class="no-print print-actions"')[1].split("</div>")[0]
    assert link in actions


# The admin: regional staff edit, every office downloads -----------------------------------------------------


def form_data(template, **changes):
    data = {
        f"{name}_{language}": getattr(template, f"{name}_{language}")
        for name in FormTemplate.TEXT_FIELDS
        for language in ("zh", "en")
    }
    return {**data, **changes, "_save": "1"}


def test_regional_staff_edit_the_text_and_the_download_follows(client_of, regional_admin, session_2024):
    client = client_of(regional_admin)
    template = FormTemplate.objects.get(kind=Kind.EXEMPTION)
    assert client.get(ADMIN).status_code == 200
    response = client.post(
        f"{ADMIN}{template.pk}/change/",
        form_data(template, title_zh="新疆考区{year}年会计专业技术中级资格考试免试科目申请表"),
    )
    assert response.status_code == 302, response.content.decode()
    text = docx_text(client.get(f"{ADMIN}{template.pk}/download/zh-hans/"))
    assert "新疆考区2024年会计专业技术中级资格考试免试科目申请表" in text
    english = docx_text(client.get(f"{ADMIN}{template.pk}/download/en/"))
    assert "Translation for reference only" in english
    assert client.get(f"{ADMIN}{template.pk}/download/fr/").status_code == 404


def test_a_local_office_views_and_downloads_but_cannot_edit(client_of, reviewer_urumqi, session_2024):
    client = client_of(reviewer_urumqi)
    template = FormTemplate.objects.get(kind=Kind.CERT_DELETION)
    before = template.title_zh
    assert client.get(ADMIN).status_code == 200
    page = client.get(f"{ADMIN}{template.pk}/change/").content.decode()
    assert 'name="title_zh"' not in page and f"{ADMIN}{template.pk}/download/zh-hans/" in page
    assert client.post(f"{ADMIN}{template.pk}/change/", form_data(template, title_zh="改掉")).status_code == 403
    assert FormTemplate.objects.get(pk=template.pk).title_zh == before
    assert "全国会计人员统一服务管理平台" in docx_text(client.get(f"{ADMIN}{template.pk}/download/zh-hans/"))
    assert client.get(f"{ADMIN}add/").status_code == 403


def test_a_wrong_placeholder_is_refused_in_chinese_and_nothing_is_lost(client_of, regional_admin, session_2024):
    client = client_of(regional_admin)
    template = FormTemplate.objects.get(kind=Kind.EXEMPTION)
    saved = {name: getattr(template, name) for name in ("title_zh", "intro_zh", "intro_en")}
    typed_intro = "请于{registration_opens}至{ exemption_deadline }前办理。"
    response = client.post(
        f"{ADMIN}{template.pk}/change/",
        form_data(template, title_zh="{年份}年度免试科目申请表", intro_zh=typed_intro, intro_en="Until {deadline}."),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "占位符{年份}不存在。可用的占位符有：" in html
    assert "占位符{ exemption_deadline }不存在" in html and "占位符{deadline}不存在" in html
    assert "{exemption_deadline}" in html  # the list of those that exist
    # What was typed is shown again to correct; what was saved is unchanged.
    assert "{年份}年度免试科目申请表" in html and typed_intro in html
    template.refresh_from_db()
    assert {name: getattr(template, name) for name in saved} == saved


def test_the_placeholders_are_explained_and_the_form_previewed(client_of, regional_admin, session_2024):
    template = FormTemplate.objects.get(kind=Kind.EXEMPTION)
    html = client_of(regional_admin).get(f"{ADMIN}{template.pk}/change/").content.decode()
    assert "{exemption_deadline}" in html and "{reference}" in html and "{exempt_subject}" in html
    preview = html.split('class="form-preview"')[1]
    assert "<strong>2024年度会计专业技术中级资格考试免试科目申请表</strong>" in preview
    assert "请于2024年6月19日至2024年7月2日12:00前" in preview and "考生签名：" in preview


def test_the_seeded_texts_use_only_known_placeholders(session_2024):
    assert ExamSession.objects.current() == session_2024
    for template in FormTemplate.objects.all():
        template.full_clean()
        for language in ("zh", "en"):
            for text in template.texts(language).values():
                assert not documents.unknown_placeholders(text)
                assert set(re.findall(r"\{(\w+)\}", text)) <= documents.known_placeholders()


def test_a_request_s_detail_in_running_text_is_a_line_to_write_on_without_a_request(client, session_2024, urumqi):
    FormTemplate.objects.filter(kind=Kind.CERT_DELETION).update(intro_zh="本人{name}申请删除认证信息。")
    text = docx_text(download(client, "/zh-hans/requests/certification-deletion/form.docx"))
    assert "本人________申请删除认证信息。" in text
    ticket = open_ticket(Kind.CERT_DELETION, urumqi)
    text = docx_text(download(client, f"/zh-hans/requests/status/{ticket.status_token}/form.docx"))
    assert f"本人{ticket.candidate.name}申请删除认证信息。" in text


def test_the_receipt_email_says_where_the_form_is(session_2024, urumqi, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(Kind.EXEMPTION, urumqi)
        open_ticket(Kind.PASSWORD_RESET, urumqi, contact={"email": "other@example.com"})
        open_ticket(Kind.CERT_DELETION, urumqi, contact={"email": "third@example.com", "language": "en"})
    bodies = {email.to[0]: email.body for email in mailoutbox}
    assert "下载需填写并签名的申请表" in bodies["candidate@example.com"]
    assert "申请表" not in bodies["other@example.com"]
    assert "download the form to fill in and sign" in bodies["third@example.com"]


def test_staff_print_the_filled_form_of_their_office_s_request(client_of, reviewer_urumqi, reviewer_kashgar, urumqi):
    ticket = open_ticket(Kind.EXEMPTION, urumqi)
    client = client_of(reviewer_urumqi)
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    url = f"/admin/tickets/ticket/{ticket.pk}/form/"
    assert f'href="{url}"' in page
    text = docx_text(client.get(url))
    assert ticket.reference in text and "新疆财经大学" in text and "免试科目申请表" in text

    reset = open_ticket(Kind.PASSWORD_RESET, urumqi)
    assert "/form/" not in client.get(f"/admin/tickets/ticket/{reset.pk}/change/").content.decode()
    assert client.get(f"/admin/tickets/ticket/{reset.pk}/form/").status_code == 404
    # Another office's request: as if it did not exist.
    assert client_of(reviewer_kashgar).get(url).status_code == 404
