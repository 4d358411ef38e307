"""An invoice read from its text (a PDF's own text, or what OCR saw in a photo), for invoices
without Factur-X XML: the facts `text_fields` and `text_parties` find, and the totals
`text_totals` and `text_columns` find, kept only as far as `text_checks` finds they add up."""

from __future__ import annotations

import re
from dataclasses import replace

import pypdfium2

from portal.reading.result import OCR, Reading
from portal.reading.text_checks import checked_amounts
from portal.reading.text_columns import pair_columns
from portal.reading.text_fields import dates_of, is_credit_note, number_in
from portal.reading.text_parties import parties_in
from portal.reading.text_totals import totals_in
from portal.reading.text_values import lines_of

# A PDF with fewer letters than this on its pages is taken for a scan (see `has_text`).
MIN_TEXT_LETTERS = 40


class PdfTextError(ValueError):
    """The PDF cannot be opened or read."""


def pdf_text(content: bytes, *, max_pages: int = 5) -> str:
    """The text of the PDF's first `max_pages` pages, pages separated by a blank line.

    Raises PdfTextError when pdfium cannot open the document (damaged, or encrypted).
    """
    try:
        document = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError as error:
        raise PdfTextError(str(error)) from error
    try:
        pages = []
        for number in range(min(len(document), max_pages)):
            page = document[number]
            try:
                text_page = page.get_textpage()
                try:
                    pages.append(text_page.get_text_range())
                finally:
                    text_page.close()
            finally:
                page.close()
        return "\n\n".join(pages)
    finally:
        document.close()


def has_text(text: str) -> bool:
    """Whether a PDF's text is worth reading, rather than its pages OCRed (a scan has none, or
    a few stray characters)."""
    return sum(character.isalpha() for character in text) >= MIN_TEXT_LETTERS


def read_text(text: str, source: str) -> Reading | None:
    """What the text says of the invoice, as a Reading from `source` (result.TEXT or OCR);
    None when it gives neither a number, a date, an identifier nor an amount."""
    lines = lines_of(text)
    credit_note = is_credit_note(lines)
    issue_date, due_date = dates_of(lines)
    seller, buyer = parties_in(lines)
    printed = totals_in(lines)
    pair_columns(lines, printed)
    reading = Reading(
        source=source,
        number=number_in(lines),
        issue_date=issue_date,
        due_date=due_date,
        credit_note=credit_note,
        seller=seller,
        buyer=buyer,
    )
    # OCR misreads digits, and pairing columns may pair wrongly: only amounts a check ties to
    # another are proposed then. A PDF's own digits are exact, so a lone "Total TTC" may go.
    confirmed_only = source == OCR or printed.from_columns
    amounts = checked_amounts(printed, credit_note=credit_note, confirmed_only=confirmed_only)
    if amounts is not None:
        reading = replace(reading, currency="EUR" if _in_euros(text) else None, **amounts)
    useful = (reading.number, issue_date, due_date, seller.siren, seller.vat_number, buyer.siren)
    if amounts is None and not any(useful):
        return None
    return reading


def _in_euros(text: str) -> bool:
    return "€" in text or re.search(r"\bEUR\b", text, re.IGNORECASE) is not None
