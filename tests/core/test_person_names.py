"""Candidates' names hold what a person's name is made of, and nothing else: the confirmation email, sent to
whatever address was typed, starts with the name, so free text there would let anyone have the official sender
deliver a message of their choosing."""

import html

import pytest
from django.core.exceptions import ValidationError

from applications.models import Application
from core.forms import PersonNameField
from notifications.models import OutboxMessage
from tests.applications.test_public_form import form_data as application_data
from tests.tickets.request_data import IN_WINDOW, file_request
from tickets.models import Ticket

ENGLISH_ERROR = (
    "Enter the name as written on the identity document: Chinese characters or Latin letters, "
    "with only spaces, hyphens (-), apostrophes (') or the middle dot (·) between them."
)
CHINESE_ERROR = "请按身份证件填写姓名：只能使用汉字或拉丁字母，其间只可有空格、连字符（-）、撇号（'）或间隔号（·）。"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("张三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        # The dot as other input methods type it: stored as on the identity card.
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("𠮷田", "𠮷田"),  # CJK extension B
        ("䶮", None),  # one character: too short
        ("王䶮", "王䶮"),  # extension A
        (" José  María Fernández-García ", "José María Fernández-García"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Smith ‐ Jones", "Smith-Jones"),
        ("O'Brien", "O'Brien"),
        ("D’Angelo", "D’Angelo"),
        ("Aigerim Nurlanovna", "Aigerim Nurlanovna"),
        ("ZHANG　San", "ZHANG San"),  # an ideographic space
    ],
)
def test_names_people_have_pass(typed, stored, english):
    field = PersonNameField()
    if stored is None:
        with pytest.raises(ValidationError):
            field.clean(typed)
    else:
        assert field.clean(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "Win a prize at evil.example",
        "http://evil.example/claim",
        "张三\nYour account is locked",
        "张三\t李四",
        "张三 13800000000",
        "<b>张三</b>",
        "Robert'); DROP TABLE--",
        "张三@example",
        "Иван Петров",
        "-张三",
        "张三·",
        "张三 -- 李四",
        "''",
        "张" * 61,
    ],
)
def test_anything_else_is_refused_with_a_clear_message(typed, english):
    with pytest.raises(ValidationError) as refused:
        PersonNameField().clean(typed)
    assert refused.value.messages[0] in (ENGLISH_ERROR, "Ensure this value has at most 60 characters (it has 61).")


# Through the public forms ------------------------------------------------------------------------------------------

SPAM = "Refund at pay-back.example, call 4008001234"
SPAM_URL = "Refund: https://pay-back.example/claim"


@pytest.fixture
def registration_open(time_machine):
    time_machine.move_to(IN_WINDOW)


@pytest.mark.django_db
@pytest.mark.usefixtures("registration_open")
@pytest.mark.parametrize(("language", "message"), [("en", ENGLISH_ERROR), ("zh-hans", CHINESE_ERROR)])
def test_the_application_form_refuses_such_a_name_and_sends_nothing(client, session_2024, language, message):
    response = client.post(f"/{language}/applications/apply/", application_data(name=SPAM_URL))
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not Application.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("registration_open")
@pytest.mark.parametrize(("language", "message"), [("en", ENGLISH_ERROR), ("zh-hans", CHINESE_ERROR)])
def test_the_request_forms_refuse_such_a_name_and_send_nothing(client, session_2024, language, message):
    response, _data = file_request(client, "password-reset", language=language, name=SPAM)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not Ticket.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("registration_open")
def test_the_new_name_of_an_information_change_follows_the_same_rule(client, session_2024):
    response, _data = file_request(client, "info-change", new_name=SPAM)
    assert response.status_code == 200
    assert ENGLISH_ERROR in html.unescape(response.content.decode())
    assert not Ticket.objects.exists()

    accepted, _data = file_request(client, "info-change", new_name="张珊•古丽")
    assert accepted.status_code == 302
    assert Ticket.objects.get().detail.new_name == "张珊·古丽"
