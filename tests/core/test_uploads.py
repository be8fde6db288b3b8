"""Upload checks (core.uploads.clean_upload) and uploads kept across a failed form (core.forms)."""

import datetime
import io

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.forms import KEPT_SUFFIX, CheckedFileField, KeptUploadsMixin
from core.models import PendingUpload
from core.uploads import PDF, clean_upload
from tests.factories import pdf_bytes, png_bytes

pytestmark = pytest.mark.usefixtures("english")

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
PDF_WITH_JAVASCRIPT = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF"
)


def jpeg_bytes():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def upload(content, name="file.pdf"):
    return SimpleUploadedFile(name, content)


def refusal(content, name="file.pdf", allowed=None):
    with pytest.raises(ValidationError) as caught:
        clean_upload(upload(content, name), *([allowed] if allowed else []))
    return caught.value


@pytest.fixture
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


# clean_upload ---------------------------------------------------------------------------------------


def test_a_real_pdf_passes_with_a_random_name_and_its_original_name_kept():
    data = pdf_bytes()
    clean = clean_upload(upload(data, "社保 record.pdf"), (PDF,))
    assert clean.read() == data
    assert clean.name.endswith(".pdf") and "record" not in clean.name
    assert clean.original_name == "社保 record.pdf"


@pytest.mark.parametrize(("content", "extension"), [(png_bytes(), ".png"), (jpeg_bytes(), ".jpg")])
def test_images_are_re_encoded(content, extension):
    clean = clean_upload(upload(content + b"appended payload", "photo" + extension))
    assert clean.name.endswith(extension)
    assert b"appended payload" not in clean.read()


def test_a_renamed_executable_is_refused():
    error = refusal(EXECUTABLE, "shebao.pdf")
    assert error.code == "type"
    assert error.messages == ["Only these file types are accepted: PDF, JPG, PNG."]


def test_an_image_where_only_a_pdf_is_accepted_is_refused():
    error = refusal(png_bytes(), "shebao.pdf", allowed=(PDF,))
    assert error.messages == ["Only these file types are accepted: PDF."]


def test_a_truncated_png_is_refused():
    error = refusal(png_bytes()[:40], "photo.png")
    assert error.code == "image_broken"
    assert "cannot be read" in error.messages[0]


def test_a_zero_byte_file_is_refused():
    error = refusal(b"", "empty.pdf")
    assert (error.code, error.messages) == ("empty", ["The file is empty."])


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.PORTAL_UPLOAD_MAX_BYTES = 1024 * 1024
    error = refusal(pdf_bytes() + b"\n%" + b"x" * (1024 * 1024), "big.pdf")
    assert (error.code, error.messages) == ("too_large", ["The file is larger than 1 MB. Upload a smaller scan."])


def test_a_pdf_with_a_javascript_action_is_refused():
    error = refusal(PDF_WITH_JAVASCRIPT, "shebao.pdf")
    assert error.code == "pdf_active"
    assert "scripts" in error.messages[0]


def test_a_pdf_that_does_not_parse_is_refused():
    error = refusal(b"%PDF-1.4\nthis is not really a pdf at all", "broken.pdf")
    assert error.code == "pdf_broken"


# Kept uploads ----------------------------------------------------------------------------------------


class UploadForm(KeptUploadsMixin, forms.Form):
    note = forms.CharField()
    record = CheckedFileField(allowed=(PDF,))
    photo = CheckedFileField()

    def clean(self):
        cleaned = super().clean()
        self.keep_uploads()
        return cleaned


@pytest.mark.django_db
@pytest.mark.usefixtures("_uploads_in_tmp")
class TestKeptUploads:
    def test_a_file_that_passed_is_kept_when_another_field_fails(self):
        form = UploadForm({"note": ""}, {"record": upload(pdf_bytes(), "shebao.pdf")})
        assert not form.is_valid()
        pending = PendingUpload.objects.get()
        assert (pending.field, pending.original_name) == ("record", "shebao.pdf")
        html = str(form["record"])
        assert f'name="record{KEPT_SUFFIX}" value="{pending.token}"' in html
        assert "Kept: shebao.pdf" in html

        again = UploadForm({"note": "fixed", f"record{KEPT_SUFFIX}": pending.token}, {})
        assert again.is_valid(), again.errors
        files = again.kept_files()
        assert files["record"].read() == pdf_bytes()
        assert files["record"].original_name == "shebao.pdf"
        again.discard_kept()
        assert not PendingUpload.objects.exists()

    def test_a_refused_file_is_not_kept(self):
        form = UploadForm({"note": ""}, {"record": upload(EXECUTABLE, "shebao.pdf")})
        assert not form.is_valid()
        assert form.errors["record"] == ["Only these file types are accepted: PDF."]
        assert not PendingUpload.objects.exists()

    def test_a_token_counts_only_for_the_field_it_was_kept_for(self):
        # A PNG kept as the photo must not pass as the PDF-only record.
        form = UploadForm({"note": ""}, {"photo": upload(png_bytes(), "photo.png")})
        form.is_valid()
        token = PendingUpload.objects.get(field="photo").token
        forged = UploadForm({"note": "x", f"record{KEPT_SUFFIX}": token}, {})
        assert forged.is_valid()
        assert forged.kept["record"] is None
        assert "record" not in forged.kept_files()

    def test_an_old_token_is_ignored(self):
        pending = PendingUpload.objects.create(
            field="record",
            file=SimpleUploadedFile("x.pdf", pdf_bytes()),
            original_name="x.pdf",
            created_at=timezone.now() - datetime.timedelta(days=2),
        )
        form = UploadForm({"note": "x", f"record{KEPT_SUFFIX}": pending.token}, {})
        assert form.is_valid()
        assert form.kept["record"] is None

    def test_a_new_file_replaces_the_kept_one(self):
        first = UploadForm({"note": ""}, {"record": upload(pdf_bytes("one"), "one.pdf")})
        first.is_valid()
        token = PendingUpload.objects.get().token
        second = UploadForm(
            {"note": "x", f"record{KEPT_SUFFIX}": token}, {"record": upload(pdf_bytes("two"), "two.pdf")}
        )
        assert second.is_valid()
        assert second.kept["record"].original_name == "two.pdf"
