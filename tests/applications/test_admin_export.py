"""Export of an office's reviewed applications: masked, formula-safe, scoped, with its own permission."""

import csv
import io

import openpyxl
import pytest

from tests.applications.admin_helpers import CHANGELIST, application, staff_client
from tests.factories import approve

pytestmark = pytest.mark.django_db

EXPORT = f"{CHANGELIST}export/"
XLSX, CSV = "0", "1"  # positions in IMPORT_EXPORT_FORMATS
COLUMNS = (
    "reference",
    "office",
    "document_number",
    "name",
    "qualification",
    "status",
    "decided_by",
    "decided_at",
    "verified_months",
)
HEADERS = [
    "reference",
    "exam office",
    "document number (masked)",
    "name",
    "highest qualification",
    "status",
    "decided by",
    "decided at",
    "social-insurance months verified",
]


def export(client, file_format=CSV, query=""):
    data = {"format": file_format, "resource": "0"}
    data.update({f"applicationexportresource_{column}": "on" for column in COLUMNS})
    return client.post(EXPORT + query, data)


def csv_rows(response):
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def reviewed(session_2024, urumqi, kashgar, reviewer_urumqi, reviewer_kashgar):
    approved = application(session_2024, urumqi, identity_changes={"name": '=HYPERLINK("http://evil.example","x")'})
    approved.record_verified_months(reviewer_urumqi, 100)
    approve(approved, reviewer_urumqi)
    rejected = application(session_2024, urumqi, identity_changes={"name": "+8613800000000"})
    rejected.reject(reviewer_urumqi, "work_years")
    waiting = application(session_2024, urumqi)
    theirs = application(session_2024, kashgar)
    approve(theirs, reviewer_kashgar)
    return {"approved": approved, "rejected": rejected, "waiting": waiting, "theirs": theirs}


def test_export_is_masked_formula_safe_and_reviewed_only(client, manager_urumqi, reviewed):
    assert f'href="{EXPORT}' in staff_client(client, manager_urumqi).get(CHANGELIST).content.decode()
    rows = csv_rows(export(client))
    assert rows[0] == HEADERS
    by_reference = {line[0]: line for line in rows[1:]}
    approved, rejected = reviewed["approved"], reviewed["rejected"]
    assert set(by_reference) == {approved.reference, rejected.reference}  # not the waiting one, not Kashgar's
    line = by_reference[approved.reference]
    assert line[1].startswith("650100 ")
    assert line[2] == approved.candidate.masked_document_number
    assert line[3] == '\'=HYPERLINK("http://evil.example","x")'
    assert line[5] == "Approved, waiting for payment"
    assert line[6] == "reviewer_urumqi"
    assert line[8] == "100"
    assert by_reference[rejected.reference][3] == "'+8613800000000"
    content = "\n".join(",".join(line) for line in rows)
    for app in reviewed.values():
        assert app.candidate.document_number not in content


def test_xlsx_export_is_masked_and_formula_safe(client, manager_urumqi, reviewed):
    response = export(staff_client(client, manager_urumqi), XLSX)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0] == HEADERS
    names = {line[3] for line in values[1:]}
    assert names == {'\'=HYPERLINK("http://evil.example","x")', "'+8613800000000"}
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_export_follows_the_changelist_filters(client, manager_urumqi, reviewed):
    rows = csv_rows(export(staff_client(client, manager_urumqi), query="?status=rejected"))
    assert [line[0] for line in rows[1:]] == [reviewed["rejected"].reference]


def test_regional_export_covers_every_office(client, regional_admin, reviewed):
    rows = csv_rows(export(staff_client(client, regional_admin)))
    references = {line[0] for line in rows[1:]}
    assert references == {reviewed["approved"].reference, reviewed["rejected"].reference, reviewed["theirs"].reference}


def test_kashgar_exports_its_own_only(client, staff, reviewed):
    staff["reviewer_kashgar"].role = "manager"
    staff["reviewer_kashgar"].save()
    rows = csv_rows(export(staff_client(client, staff["reviewer_kashgar"])))
    assert [line[0] for line in rows[1:]] == [reviewed["theirs"].reference]


def test_reviewers_cannot_export(client, reviewer_urumqi, reviewed):
    client = staff_client(client, reviewer_urumqi)
    assert client.get(EXPORT).status_code == 403
    assert export(client).status_code == 403
    assert EXPORT not in client.get(CHANGELIST).content.decode()


def test_the_export_forms_boxes_are_labelled_in_the_admins_language(client, manager_urumqi, session_2024):
    from django.conf import settings

    client.force_login(manager_urumqi)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    form = client.get(EXPORT).context["form"]
    labels = [str(field.label) for name, field in form.fields.items() if name.startswith("applicationexportresource_")]
    assert "参考号" in labels and "姓名" in labels
    assert not [label for label in labels if any("a" <= char.lower() <= "z" for char in label)], labels
