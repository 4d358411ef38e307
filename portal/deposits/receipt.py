"""A deposit's receipt: one A4 page the member keeps as proof of what the portal received."""

from __future__ import annotations

from fpdf import FPDF, FontFace

from portal.catalogue import gettext as _
from portal.catalogue import ngettext
from portal.config import PROJECT_ROOT
from portal.i18n import colon, format_count, format_when, page_locale
from portal.models import Deposit, utcnow

# From the npm registry (dejavu-fonts-ttf), copied there by make like the other front-end assets.
FONT_DIR = PROJECT_ROOT / "static" / "vendor" / "fonts"
SANS_FONT = FONT_DIR / "DejaVuSans.ttf"
SANS_BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
MONO_FONT = FONT_DIR / "DejaVuSansMono.ttf"
CREATOR = "OneConnect portal"

_SANS = "DejaVuSans"
_MONO = "DejaVuSansMono"
_TEXT_SIZE = 10.0
_LARGEST_MONO_SIZE = 9.0
_SMALLEST_MONO_SIZE = 6.0
_WIDEST_LABEL_SHARE = 0.4  # of the page's text width: a longer label wraps
_CELL_PADDING = (1.8, 2.0)  # mm: top and bottom, left and right


def receipt_pdf(deposit: Deposit) -> bytes:
    """The receipt of `deposit`, worded in the current request's language."""
    pdf = _new_document(deposit)
    try:
        pdf.set_font(_SANS, "B", 18)
        pdf.cell(text=_("Deposit receipt"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_SANS, "", 12)
        pdf.multi_cell(0, 8, deposit.organization.name, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        _write_rows(pdf, deposit)
        _write_issue_line(pdf)
        return bytes(pdf.output())
    finally:
        _close_fonts(pdf)


def _close_fonts(pdf: FPDF) -> None:
    """fontTools reads the font files lazily and keeps them open until told otherwise."""
    for font in pdf.fonts.values():
        close = getattr(font, "close", None)
        if close is not None:
            close()


def _new_document(deposit: Deposit) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 20, 18)
    pdf.set_auto_page_break(auto=False)
    fonts = ((_SANS, "", SANS_FONT), (_SANS, "B", SANS_BOLD_FONT), (_MONO, "", MONO_FONT))
    for _family, _style, path in fonts:  # all checked before any is opened
        if not path.is_file():
            raise RuntimeError(
                f"The deposit receipt needs the font {path}: run make to install the assets."
            )
    for family, style, path in fonts:
        pdf.add_font(family, style, str(path))
    pdf.set_title(f"{_('Deposit receipt')}{colon()}{deposit.file_name}")
    pdf.set_subject(deposit.organization.name)
    pdf.set_creator(CREATOR)
    pdf.set_lang(page_locale())
    pdf.add_page()
    return pdf


def _rows(deposit: Deposit) -> list[tuple[str, str, bool]]:
    """(label, value, whether the value is set in the monospaced font)."""
    not_yet = _("not yet")
    return [
        (_("Organization"), deposit.organization.name, False),
        (_("File"), deposit.file_name, False),
        (_("Size"), _size_in_bytes(deposit.file_size), False),
        (_("SHA-256"), deposit.sha256, True),
        (_("Invoice type"), deposit.kind.label, False),
        (_("External reference"), deposit.external_reference, False),
        (_("Document ID"), deposit.document_id or _("not assigned yet"), False),
        (_("Status"), deposit.status.label, False),
        (_("Received by the portal"), format_when(deposit.created_at), False),
        (_("Sent to OneConnect"), format_when(deposit.sent_at) or not_yet, False),
        (_("Decision"), format_when(deposit.decided_at) or not_yet, False),
        (_("Deposited by"), deposit.user_email or "", False),
    ]


def _size_in_bytes(size: int) -> str:
    return ngettext("%(size)s byte", "%(size)s bytes", size, size=format_count(size))


def _write_rows(pdf: FPDF, deposit: Deposit) -> None:
    rows = _rows(deposit)
    label_width = _label_column_width(pdf, [row[0] for row in rows])
    value_width = pdf.epw - label_width
    digest_style = FontFace(
        family=_MONO,
        size_pt=_monospace_size_fitting(pdf, deposit.sha256, value_width - 2 * _CELL_PADDING[1]),
    )
    label_style = FontFace(family=_SANS, emphasis="BOLD", color=(70, 70, 70))
    pdf.set_font(_SANS, "", _TEXT_SIZE)
    with pdf.table(
        col_widths=(label_width, value_width),
        width=pdf.epw,
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        text_align="LEFT",
        v_align="MIDDLE",
        padding=_CELL_PADDING,
        line_height=5.5,
    ) as table:
        for label, value, monospaced in rows:
            row = table.row()
            row.cell(label, style=label_style)
            row.cell(value, style=digest_style if monospaced else None)


def _label_column_width(pdf: FPDF, labels: list[str]) -> float:
    """Wide enough for the longest label on one line, leaving the values the rest."""
    pdf.set_font(_SANS, "B", _TEXT_SIZE)
    widest = max(pdf.get_string_width(label) for label in labels)
    return min(widest + 2 * _CELL_PADDING[1] + 1, pdf.epw * _WIDEST_LABEL_SHARE)


def _monospace_size_fitting(pdf: FPDF, text: str, width: float) -> float:
    """The largest monospaced size (in points) at which `text` stays on one line of `width` mm:
    a digest cut in two is no longer one a reader can compare."""
    size = _LARGEST_MONO_SIZE
    while size > _SMALLEST_MONO_SIZE:
        pdf.set_font(_MONO, "", size)
        if pdf.get_string_width(text) <= width:
            break
        size -= 0.5
    return size


def _write_issue_line(pdf: FPDF) -> None:
    pdf.set_font(_SANS, "", 8)
    pdf.set_text_color(110, 110, 110)
    pdf.set_y(-pdf.b_margin - 5)
    when = format_when(utcnow())
    pdf.cell(0, 5, _("Issued on %(when)s by the OneConnect portal", when=when), align="C")
