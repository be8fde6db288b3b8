"""Upload checks shared by every form: PDF, JPEG and PNG only, decided by content and by parsing.

A file passes when its first bytes say what it is *and* the parser opens it: pypdf for PDFs (which
also must carry no JavaScript), Pillow for images. What is stored is what the parser understood, written
again: a PDF's pages and document information through pypdf's writer (no scripts, actions, attachments,
nor anything after the last %%EOF), an image's pixels re-encoded (no EXIF/GPS, comments, text chunks,
profiles, nor anything appended after the image). Stored names are random; the original name is kept only
as text.
"""

import io
import os
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PDF, JPEG, PNG = "pdf", "jpeg", "png"
MAGIC = {PDF: (b"%PDF-",), JPEG: (b"\xff\xd8\xff",), PNG: (b"\x89PNG\r\n\x1a\n",)}
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}
ACTIVE_PDF_NAMES = (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch", b"/EmbeddedFile")
# All of them in one pass over the file (a scan per name reads a 200 KB upload six times).
ACTIVE_PDF_PATTERN = re.compile(b"|".join(re.escape(name) for name in ACTIVE_PDF_NAMES))


def max_upload_bytes():
    return settings.PORTAL_UPLOAD_MAX_BYTES


def sniff(head: bytes) -> str | None:
    for kind, prefixes in MAGIC.items():
        if head.startswith(prefixes):
            return kind
    return None


def _refuse_active_pdf():
    return ValidationError(
        _("This PDF contains scripts or embedded files. Export it again as a plain PDF."), "pdf_active"
    )


def _check_pdf(data: bytes) -> bytes:
    """The PDF as stored: refused when it visibly carries scripts, else its pages written again (_rewrite_pdf)."""
    from pypdf import PdfReader

    if ACTIVE_PDF_PATTERN.search(data):
        raise _refuse_active_pdf()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        rewritten = None if encrypted or not pages else _rewrite_pdf(reader)
    except Exception as exc:  # whatever the parser trips on in a stranger's file is a refusal, not a 500
        raise ValidationError(
            _("This PDF cannot be read. Export it again and upload the new file."), "pdf_broken"
        ) from exc
    if encrypted:
        raise ValidationError(_("This PDF is password-protected. Upload it without a password."), "pdf_encrypted")
    if not pages:
        raise ValidationError(_("This PDF has no pages."), "pdf_empty")
    # The scan above sees only names written plainly; in a compressed object stream, or spelt with #xx
    # escapes (/Java#53cript), they reach the writer, which writes names plainly. Anything the stripping
    # missed is refused here.
    if ACTIVE_PDF_PATTERN.search(rewritten):
        raise _refuse_active_pdf()
    return rewritten


# Document information kept in the stored copy (text only); the rest of the catalog (open actions, document
# scripts, attachments, forms, outlines, XMP) is not copied at all.
PDF_INFO_KEYS = ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer", "/CreationDate", "/ModDate")
# Annotations that carry or play content of their own (attachments, media): dropped with what they point to.
PDF_DROPPED_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
# The one action a stored PDF may keep: a jump to another page of the same document.
PDF_KEPT_ACTIONS = {"/GoTo"}


def _rewrite_pdf(reader) -> bytes:
    """Only the pages and the document information, through a fresh writer: one revision, ending at its %%EOF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for page in reader.pages:
        # Stripped before the copy: the writer copies only what the page still references.
        _strip_pdf_actions(page)
        writer.add_page(page)
    info = reader.metadata or {}
    writer.add_metadata({key: str(info[key]) for key in PDF_INFO_KEYS if key in info})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _strip_pdf_actions(page):
    """No actions run when the page opens or closes, no annotation runs anything but a jump inside the document,
    and no annotation brings a file or media of its own."""
    from pypdf.generic import ArrayObject, NameObject

    page.pop(NameObject("/AA"), None)
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = ArrayObject()
    for reference in annotations.get_object():
        annotation = reference.get_object()
        if annotation.get("/Subtype") in PDF_DROPPED_ANNOTATIONS:
            continue
        # A form field's actions may sit on the widget or on its parent fields.
        node, depth = annotation, 0
        while node is not None and depth < 32:
            node.pop(NameObject("/AA"), None)
            action = node.get("/A")
            if action is not None:
                action = action.get_object()
                if action.get("/S") in PDF_KEPT_ACTIONS:
                    action.pop(NameObject("/Next"), None)  # a chained action would run after the jump
                else:
                    del node["/A"]
            parent = node.get("/Parent")
            node, depth = (parent.get_object() if parent is not None else None), depth + 1
        kept.append(reference)
    page[NameObject("/Annots")] = kept


def _reencode_image(data: bytes, kind: str) -> bytes:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGB") if kind == JPEG else image.copy()
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGB")
            # Only the pixels: Pillow writes back what it read into `info` (a JPEG's comment, XMP, an ICC
            # profile). A palette image's transparent colour is part of the picture, so it stays.
            image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
            out = io.BytesIO()
            # Saving a fresh image drops EXIF (with GPS) and anything hidden after the image data.
            image.save(out, format="JPEG" if kind == JPEG else "PNG", quality=90)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("This image cannot be read. Take the photo or scan again."), "image_broken") from exc
    return out.getvalue()


def clean_upload(upload, allowed=(PDF, JPEG, PNG)) -> ContentFile:
    """Check an uploaded file and return a safe copy (random name, original name in `.original_name`)."""
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."), "empty")
    if size > max_upload_bytes():
        raise ValidationError(
            _("The file is larger than %(limit)d MB. Upload a smaller scan."),
            "too_large",
            params={"limit": max_upload_bytes() // (1024 * 1024)},
        )
    upload.seek(0)
    data = upload.read()
    kind = sniff(data[:16])
    if kind not in allowed:
        names = ", ".join(EXTENSIONS[k].lstrip(".").upper() for k in allowed)
        raise ValidationError(_("Only these file types are accepted: %(types)s."), "type", params={"types": names})
    data = _check_pdf(data) if kind == PDF else _reencode_image(data, kind)
    clean = ContentFile(data, name=uuid.uuid4().hex + EXTENSIONS[kind])
    clean.original_name = os.path.basename(getattr(upload, "name", "") or "")[-120:]
    return clean


def upload_path(instance, filename):
    """Random names in per-app, per-month folders under MEDIA_ROOT (which no URL serves)."""
    ext = os.path.splitext(filename)[1].lower()
    ext = ext if ext in CONTENT_TYPES else ""
    return f"{instance._meta.app_label}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


def attachment(stored, filename):
    """A stored upload as a download (never shown inline, never cached); 404 when the file is gone or its name
    points outside the storage."""
    from django.core.exceptions import SuspiciousFileOperation
    from django.http import FileResponse, Http404

    try:
        handle = stored.storage.open(stored.name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation):
        raise Http404 from None
    content_type = CONTENT_TYPES.get(os.path.splitext(stored.name)[1].lower(), "application/octet-stream")
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    return _private(response)


def generated_attachment(data, filename, content_type, fallback_name=""):
    """A file the portal made (a form filled from the session's data) as a download, with the same headers as an
    upload's: never shown inline, never cached. A non-ASCII name is sent as RFC 5987 filename*=utf-8''…, after
    `fallback_name` (ASCII) as filename= for clients that do not read filename*."""
    from urllib.parse import quote

    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(data, content_type=content_type)
    if filename.isascii() or not fallback_name:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        fallback = fallback_name.replace("\\", "").replace('"', "")
        response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(filename)}"
    return _private(response)


def _private(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
