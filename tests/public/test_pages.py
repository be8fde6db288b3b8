import hashlib
import re
from pathlib import Path

import pytest
from django.core import mail

from offices.seed import LOCAL_OFFICES
from portal.celery import app as celery_app
from public.models import HelpEntry

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
# The fixed reset password of FAQ 4, known only by its digest so that this test does not publish it.
FAQ4_PASSWORD_SHA256 = "3087ed058da24394d0a57506ff6929eaaaab42b51086aa11a7f92e470c197633"
# Its shape: letters, an asterisk, digits. Every token of that shape is hashed and compared.
PASSWORD_SHAPE = re.compile(r"[A-Za-z]{2,8}\*\d{2,8}")


def password_tokens(text):
    return {hashlib.sha256(token.encode()).hexdigest() for token in PASSWORD_SHAPE.findall(text)}


def test_home_shows_current_session_deadline_in_chinese_and_english(client):
    zh = client.get("/zh-hans/").content.decode()
    en = client.get("/en/").content.decode()
    for html in (zh, en):
        assert "2024-07-02 12:00" in html
    assert 'lang="zh-hans"' in zh
    assert 'lang="en"' in en
    assert "Key dates" in en


def test_root_redirects_to_chinese_whatever_the_browser_asks(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/"


def test_language_switch_keeps_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/offices/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/offices/"


def test_open_now_lists_what_is_open(client, time_machine):
    time_machine.move_to("2024-07-02T12:30:00+08:00")
    html = client.get("/en/").content.decode()
    open_section = html.split('id="open-now"')[1].split("</section>")[0]
    assert "Online payment" in open_section
    assert "Online registration" not in open_section


def test_office_directory_lists_every_office(client):
    html = client.get("/en/offices/").content.decode()
    for code, *_ in LOCAL_OFFICES:
        assert f'id="office-{code}"' in html
    assert 'id="office-650000"' in html
    assert "Accounting Section, Kashgar Prefecture Finance Bureau" in html
    assert "喀什地区财政局会计科" in client.get("/zh-hans/offices/").content.decode()


def test_help_page_has_all_22_answers_in_both_languages(client):
    assert HelpEntry.objects.count() == 22
    for prefix in ("zh-hans", "en"):
        html = client.get(f"/{prefix}/help/").content.decode()
        for number in range(1, 23):
            assert f'id="faq-{number}"' in html
    assert "real-name" in client.get("/en/help/").content.decode().lower()


def test_unpublished_help_entry_is_hidden(client):
    HelpEntry.objects.filter(number=7).update(published=False)
    assert 'id="faq-7"' not in client.get("/en/help/").content.decode()


def test_password_detector_finds_a_token_of_that_shape():
    sample = "Xyz" + "*" + "1234"
    assert hashlib.sha256(sample.encode()).hexdigest() in password_tokens(f"重置后的密码为{sample}。")


def test_faq4_password_appears_in_no_page_file_or_email(client):
    pages = [client.get(f"/{lang}{path}").content.decode() for lang in ("/zh-hans", "/en") for path in ("/", "/help/")]
    for html in pages:
        assert FAQ4_PASSWORD_SHA256 not in password_tokens(html)
    tracked = [
        path
        for path in REPO.rglob("*")
        if path.is_file()
        and not {".git", ".venv", "var", "node_modules", "__pycache__"} & set(path.relative_to(REPO).parts)
    ]
    assert len(tracked) > 50
    for path in tracked:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        assert FAQ4_PASSWORD_SHA256 not in password_tokens(text), path
    for message in mail.outbox:
        assert FAQ4_PASSWORD_SHA256 not in password_tokens(message.subject + message.body)


def test_healthz_ok_with_database_and_broker(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}


def test_healthz_503_when_broker_unreachable(client):
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = previous
    assert response.status_code == 503
    assert "broker" in response.json()["problems"][0]
