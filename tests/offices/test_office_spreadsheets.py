import io

import openpyxl
import pytest
import tablib

from offices.models import Office
from offices.resources import OfficeResource

pytestmark = pytest.mark.django_db

EXPORT_FIELDS = {f"officeresource_{name}": "on" for name in OfficeResource.Meta.fields}


def export(client, file_format):
    """Post the admin export form: format 0 is xlsx, 1 is csv (settings.IMPORT_EXPORT_FORMATS)."""
    return client.post("/admin/offices/office/export/", {"format": file_format, "resource": 0, **EXPORT_FIELDS})


def test_regional_exports_every_office_as_xlsx_and_csv(client_of, regional_admin):
    client = client_of(regional_admin)
    response = export(client, 0)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("code", "name_zh", "name_en")
    assert len(rows) == 16  # header + 15 offices
    csv_text = export(client, 1).content.decode("utf-8-sig")
    assert "653100,喀什地区财政局会计科" in csv_text


def test_export_neutralises_formula_cells(client_of, regional_admin):
    Office.objects.filter(code="650100").update(phone='=HYPERLINK("http://evil")', email="", address_en="@SUM(1)")
    csv_text = export(client_of(regional_admin), 1).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    assert "'@SUM(1)" in csv_text


def test_import_updates_by_code_and_dry_run_changes_nothing():
    dataset = tablib.Dataset(headers=list(OfficeResource.Meta.fields))
    row = {name: getattr(Office.objects.get(code="653100"), name) for name in OfficeResource.Meta.fields}
    row["phone"] = "0998-1234567"
    dataset.append([row[name] for name in OfficeResource.Meta.fields])

    result = OfficeResource().import_data(dataset, dry_run=True)
    assert not result.has_errors()
    assert Office.objects.get(code="653100").phone == ""

    OfficeResource().import_data(dataset, dry_run=False)
    OfficeResource().import_data(dataset, dry_run=False)  # idempotent
    assert Office.objects.get(code="653100").phone == "0998-1234567"
    assert Office.objects.count() == 15


def test_import_and_export_need_their_own_permissions(client_of, staff):
    for user in (staff["reviewer_urumqi"], staff["manager_urumqi"]):
        client = client_of(user)
        assert client.get("/admin/offices/office/import/").status_code == 403
        assert export(client, 1).status_code == 403
    assert client_of(staff["regional_admin"]).get("/admin/offices/office/import/").status_code == 200
