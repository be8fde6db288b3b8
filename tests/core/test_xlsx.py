"""core.xlsx.StreamingXLSX: the export format writes what tablib's writer wrote, row by row."""

import datetime
import io

import openpyxl
import tablib

from core.xlsx import StreamingXLSX


def test_a_sheet_reads_back_with_its_values_and_a_bold_frozen_header():
    dataset = tablib.Dataset(
        ["A1B2C3D4E5", "王小明", 300, datetime.datetime(2024, 7, 1, 10, 30), None],
        ["'=HYPERLINK(1)", "bad\x07name", 0, "", "x"],
        headers=["参考号", "姓名", "amount", "at", "note"],
        title="reviewed",
    )
    content = StreamingXLSX().export_data(dataset)

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("参考号", "姓名", "amount", "at", "note")
    assert rows[1] == ("A1B2C3D4E5", "王小明", 300, datetime.datetime(2024, 7, 1, 10, 30), None)
    assert rows[2][0] == "'=HYPERLINK(1)" and sheet["A3"].data_type == "s"  # text, never a formula
    assert rows[2][1] == "bad\N{REPLACEMENT CHARACTER}name"  # a control character would break the file
    assert all(cell.font.bold for cell in sheet[1]) and not sheet["A2"].font.bold
    assert sheet.freeze_panes == "A2" and sheet.title == "reviewed"
    assert sheet.column_dimensions["A"].width >= 8


def test_imports_still_read_xlsx():
    dataset = tablib.Dataset(["P1", "300"], headers=["payment_code", "amount"])
    content = StreamingXLSX().export_data(dataset)
    read = StreamingXLSX().create_dataset(content)
    assert read.headers == ["payment_code", "amount"] and read[0] == ("P1", "300")
