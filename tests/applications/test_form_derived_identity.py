"""The 18-character ID number says the birth date and gender: the form takes them from it when left empty, checks
them when given, and still asks for them with other documents."""

import pytest

from applications.models import Application
from tests.applications.test_public_form import IN_WINDOW, field_html, form_data
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registration_open(time_machine):
    time_machine.move_to(IN_WINDOW)


def test_birth_date_and_gender_come_from_the_id_number(client):
    number = resident_id("19880315", male=False)
    response = client.post(
        "/en/applications/apply/", form_data(document_number=number, birth_date="", gender=""), follow=True
    )
    assert response.status_code == 200
    candidate = Application.objects.get().candidate
    assert (candidate.birth_date.isoformat(), candidate.gender) == ("1988-03-15", "F")


def test_a_passport_still_needs_them(client):
    data = form_data(document_type="passport", document_number="E12345678", nationality="Kazakhstan")
    data.update(birth_date="", gender="")
    html = client.post("/en/applications/apply/", data).content.decode()
    assert "This field is required." in field_html(html, "birth_date")
    assert "This field is required." in field_html(html, "gender")
    assert not Application.objects.exists()


def test_the_form_says_they_are_taken_from_the_number(client):
    html = client.get("/en/applications/apply/").content.decode()
    assert "Taken from an 18-character ID number when left empty" in field_html(html, "birth_date")
