"""What a candidate types into the public request forms, per kind, and requests filed through them."""

import re
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import pdf_bytes, png_bytes, resident_id

IN_WINDOW = "2024-06-20T10:00:00+08:00"
KIND_SLUGS = ["password-reset", "info-change", "certification-deletion", "refund", "exemption"]
# The shape of the fixed reset password of FAQ 4 (see tests/public/test_pages.py): no page or email may
# contain any token of that shape.
PASSWORD_SHAPE = re.compile(r"[A-Za-z]{2,8}\*\d{2,8}")


def pdf_upload(name="receipt.pdf", content=None):
    return SimpleUploadedFile(name, pdf_bytes() if content is None else content, content_type="application/pdf")


def png_upload(name="photo.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def common_data(**changes):
    data = {
        "name": "张三",
        "document_type": "resident_id",
        "document_number": resident_id("19900101", male=True),
        "birth_date": "1990-01-01",
        "gender": "M",
        "nationality": "",
        "email": "zhang@example.com",
        "phone": "13800000000",
        "office": "650100",
        "submission_key": uuid.uuid4().hex,
        "website": "",
    }
    data.update(changes)
    return data


def kind_data(slug):
    """The kind's own fields, with fresh upload objects (a posted file is consumed)."""
    return {
        "password-reset": lambda: {"platform": "xinjiang"},
        "info-change": lambda: {
            "scope": "platform_identity",
            "changes": ["name"],
            "new_name": "张珊",
            "proof": pdf_upload("name-change.pdf"),
        },
        "certification-deletion": lambda: {"statement": "我忘记了全国平台账号的邮箱，申请删除实名认证信息。"},
        "refund": lambda: {
            "receipt": pdf_upload("receipt.pdf"),
            "payment_codes": "6500001, 6500002",
            "amounts": "176, 176",
            "paid_at": "2024-06-20, 2024-06-21",
        },
        "exemption": lambda: {
            "degree": "mpacc",
            "certificate_number": "1075532015000123",
            "school": "新疆财经大学",
            "graduation_date": "2015-06-30",
        },
    }[slug]()


def form_data(slug, **changes):
    data = {**common_data(), **kind_data(slug)}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def file_request(client, slug, language="en", **changes):
    """POST the form of `slug`; returns (response, data posted)."""
    data = form_data(slug, **changes)
    return client.post(f"/{language}/requests/{slug}/new/", data), data


def field_html(html, name):
    """The markup of one field's block (label, help, errors, input)."""
    match = re.search(
        rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>\s*(?=<div class="field|</fieldset>)', html, re.S
    )
    assert match, f"no field {name} in the page"
    return match.group(1)


def without_csrf(content):
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)
