"""The requests' downloadable forms: a DOCX made with python-docx from a FormTemplate's text (regional staff edit it
in the admin), its placeholders filled from the current session and, when downloaded from a request's pages, from
the request. One A4 page: the title, the introduction, a table of fields to fill in (cells left empty to type or
write in), the materials, the declaration with the candidate's signature and date line, the office's address and
hours, and a table for the office.

Why DOCX and python-docx: the forms are Chinese, and a PDF needs a CJK font embedded, which the portal does not ship;
a DOCX names the font and Word or WPS shows it with the reader's own. python-docx is the maintained library for it
(lxml, already a dependency, is all it needs), and its table cells are the blanks candidates fill in.
"""

import io
import re

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from applications import placeholders
from applications.models import ExamSession
from core.uploads import generated_attachment

from .models import DOCUMENT_KINDS, FormTemplate, Kind

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The ASCII file name sent beside the Chinese one (core/uploads.py: generated_attachment).
ASCII_NAMES = {Kind.EXEMPTION: "exemption-application-form", Kind.CERT_DELETION: "certification-deletion-statement"}


def _exemption(ticket, name):
    detail = ticket.detail if ticket.kind == Kind.EXEMPTION else None
    if detail is None:
        return ""
    if name == "degree":
        return detail.get_degree_display()
    if name == "graduation_date":
        return placeholders.spoken(detail.graduation_date, translation.get_language())
    return getattr(detail, name)


# placeholder → (what it is, its value for a request). Downloaded without a request, they are left blank to fill in.
TICKET_PLACEHOLDERS = {
    "reference": (gettext_lazy("the request's reference"), lambda ticket: ticket.reference),
    "name": (gettext_lazy("the candidate's name"), lambda ticket: ticket.candidate.name),
    "phone": (gettext_lazy("the candidate's mobile phone"), lambda ticket: ticket.phone),
    "email": (gettext_lazy("the candidate's email"), lambda ticket: ticket.email),
    "office": (gettext_lazy("the office of the request"), lambda ticket: ticket.office.name),
    "degree": (gettext_lazy("degree (exemption)"), lambda ticket: _exemption(ticket, "degree")),
    "certificate_number": (
        gettext_lazy("degree certificate number (exemption)"),
        lambda ticket: _exemption(ticket, "certificate_number"),
    ),
    "school": (gettext_lazy("school (exemption)"), lambda ticket: _exemption(ticket, "school")),
    "graduation_date": (
        gettext_lazy("graduation date (exemption)"),
        lambda ticket: _exemption(ticket, "graduation_date"),
    ),
    "statement": (
        gettext_lazy("the written statement (certification deletion)"),
        lambda ticket: ticket.detail.statement if ticket.kind == Kind.CERT_DELETION else "",
    ),
}
# A request's detail in running text when there is no request: a line to write on (in a cell, the cell is the blank).
BLANK = "________"


def known_placeholders():
    return {*placeholders.PLACEHOLDERS, *TICKET_PLACEHOLDERS}


def unknown_placeholders(text):
    """None, or the message (in the admin's language) naming the braced words of `text` that are no placeholder."""
    wrong = placeholders.unknown(text, known_placeholders())
    if not wrong:
        return None
    return ValidationError(
        _("Unknown placeholder %(wrong)s. Write one of: %(known)s (with the braces, without spaces).")
        % {
            "wrong": "、".join(f"{{{name}}}" for name in wrong),
            "known": "、".join(f"{{{name}}}" for name in sorted(known_placeholders())),
        },
        code="placeholder",
    )


def template_for(kind):
    """The kind's downloadable form, or None (a kind without one, or its row deleted)."""
    if kind not in DOCUMENT_KINDS:
        return None
    return FormTemplate.objects.filter(kind=kind).first()


def help_text():
    """What staff read under each text field of the admin form."""
    request_names = (f"{{{name}}}: {what}" for name, (what, _get) in TICKET_PLACEHOLDERS.items())
    return _(
        "Placeholders: %(placeholders)s. The request's details are filled in when a candidate downloads the form "
        "from the request's pages, and left blank otherwise. Fields: one per line; “label | text” puts the text in "
        "the cell to fill in."
    ) % {"placeholders": "; ".join([placeholders.help_text(), *request_names])}


def values_for(session, language, ticket=None, blank=""):
    """{placeholder: text}: the session's dates and the request's details, `blank` where there is none."""
    values = dict.fromkeys(known_placeholders(), blank)
    values.update(placeholders.session_values(session, language))
    if ticket is not None:
        values.update({name: str(get(ticket) or "") for name, (_what, get) in TICKET_PLACEHOLDERS.items()})
    return values


def _lines(text, values):
    filled = placeholders.fill(text or "", values)
    return [line.strip() for line in filled.splitlines() if line.strip()]


def _field_rows(text, values):
    """[(label, prefilled text)] of a fields text: one field per line, "label | text" fills its cell."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        label, _bar, value = line.partition("|")
        rows.append((placeholders.fill(label.strip(), values), placeholders.fill(value.strip(), values)))
    return rows


def _font(run_or_style, size=None, bold=None):
    font = run_or_style.font
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold


def _base_document():
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(15)
    section.left_margin = section.right_margin = Mm(18)
    normal = document.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(10.5)
    # Word takes the font of Chinese characters from eastAsia, not from the font's name.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.line_spacing = 1.15
    return document


LABEL_WIDTH, VALUE_WIDTH = Cm(4.5), Cm(12.9)  # 17.4 cm: A4 less the margins


def _table(document, rows, height):
    """A two-column table: the label, and the cell to fill in (at least `height` high, to write by hand)."""
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Fixed widths (the grid's and each cell's): LibreOffice and WPS ignore the cells' alone.
    table.autofit = False
    table.columns[0].width, table.columns[1].width = LABEL_WIDTH, VALUE_WIDTH
    for label, value in rows:
        row = table.add_row()
        row.height, row.height_rule = height, WD_ROW_HEIGHT_RULE.AT_LEAST
        cells = row.cells
        cells[0].width, cells[1].width = LABEL_WIDTH, VALUE_WIDTH
        cells[0].text, cells[1].text = label, value
        for cell in cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
    return table


def _heading(document, text, size=11):
    paragraph = document.add_paragraph()
    _font(paragraph.add_run(text), size=size, bold=True)
    paragraph.paragraph_format.space_before = Pt(6)
    return paragraph


def _office_lines(ticket, directory_url):
    if ticket is None:
        return [_("Addresses and hours of the offices: %(url)s") % {"url": directory_url or ""}]
    office = ticket.office
    unknown = _("not known yet")
    return [
        "{}{}{}".format(_("Office"), _(": "), office.name),
        "{}{}{}".format(_("Address"), _(": "), office.address or unknown),
        "{}{}{}".format(_("Office hours"), _(": "), office.hours or unknown),
    ]


def outline(template, session, language, ticket=None, directory_url=""):
    """What the form says, in order, as [(part, content)]: part is "title", "reference", "paragraph", "heading",
    "fields" or "office_fields" (content: [(label, text)]) or "signature". In English when asked for and the
    template has English texts, else Chinese. The DOCX and the admin's preview are made from it."""
    english = template.in_english(language)
    with translation.override("en" if english else "zh-hans"):
        language = translation.get_language()
        values, cell_values = values_for(session, language, ticket, BLANK), values_for(session, language, ticket)
        texts = template.texts("en" if english else "zh")
        parts = [("title", placeholders.fill(texts["title"], values))]
        if ticket is not None:
            parts.append(("reference", "{}{}{}".format(_("Reference"), _(": "), ticket.reference)))
        parts += [("paragraph", line) for line in _lines(texts["intro"], values)]
        parts.append(("fields", _field_rows(texts["applicant_fields"], cell_values)))
        materials = _lines(texts["materials"], values)
        if materials:
            parts.append(("heading", _("Bring to the office")))
            parts += [("paragraph", line) for line in materials]
        parts.append(("heading", _("Candidate's declaration")))
        parts += [("paragraph", line) for line in _lines(texts["declaration"], values)]
        signature = (_("Candidate's signature"), _(": "), "_" * 18, _("Date"), _(": "), "_" * 14)
        parts.append(("signature", "{}{}{}      {}{}{}".format(*signature)))
        parts.append(("heading", _("Where to come")))
        parts += [("paragraph", line) for line in _office_lines(ticket, directory_url)]
        office_rows = _field_rows(texts["office_fields"], cell_values)
        if office_rows:
            parts.append(("heading", _("For the office")))
            parts.append(("office_fields", office_rows))
    return parts


def render(template, session, language, ticket=None, directory_url=""):
    """The form as DOCX bytes (see `outline`)."""
    document = _base_document()
    parts = outline(template, session, language, ticket=ticket, directory_url=directory_url)
    for part, content in parts:
        if part == "title":
            title = document.add_paragraph()
            title.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(title.add_run(content), size=16, bold=True)
            document.core_properties.title = content
        elif part == "reference":
            document.add_paragraph(content).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif part == "paragraph":
            document.add_paragraph(content)
        elif part == "heading":
            _heading(document, content, size=10.5)
        elif part == "signature":
            document.add_paragraph(content).paragraph_format.space_before = Pt(10)
        elif part == "fields":
            _table(document, content, height=Cm(0.85))
        elif part == "office_fields":
            _table(document, content, height=Cm(1.4))
    properties = document.core_properties
    properties.author = properties.last_modified_by = ""
    properties.created = properties.modified = timezone.now()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def filename(template, session, language):
    """The download's name: the form's title (its placeholders filled), in the language rendered."""
    english = template.in_english(language)
    with translation.override("en" if english else "zh-hans"):
        values = values_for(session, translation.get_language())
        title = placeholders.fill(template.title_en if english else template.title_zh, values)
    title = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip() or ASCII_NAMES[template.kind]
    return f"{title[:120]}.docx"


def ascii_filename(template, session):
    year = f"-{session.year}" if session is not None else ""
    return f"{ASCII_NAMES[template.kind]}{year}.docx"


def download(request, template, language, session=None, ticket=None):
    """The form as a DOCX attachment, its placeholders filled from `session` (the current one by default)."""
    session = session if session is not None else ExamSession.objects.current()
    directory = request.build_absolute_uri(reverse("office-directory"))
    english = template.in_english(language)
    language = "en" if english else "zh-hans"
    data = render(template, session, language, ticket=ticket, directory_url=directory)
    ascii_name = ascii_filename(template, session).replace(".docx", "-en.docx" if english else ".docx")
    return generated_attachment(data, filename(template, session, language), DOCX_CONTENT_TYPE, ascii_name)
