"""Invoice pages as PNG images, so staff read a PDF without any PDF viewer in the browser.

PDFium (through pypdfium2) only draws the pages: no form environment is set up and the bundled
build has no JavaScript engine, so a PDF's scripts never run, here or in the browser. PDFium is
not thread-safe, so one lock serialises every use of it in this process.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

MAX_PAGES = 50
TARGET_WIDTH = 1000  # pixels; an A4 page becomes about 1000 x 1414
MAX_SIDE = 2000  # pixels on either side, so an enormous page cannot exhaust memory
MAX_SCALE = 4.0  # a tiny page is enlarged, but not without bound

_PDFIUM = threading.Lock()


class UnreadablePdf(Exception):
    """The stored PDF cannot be drawn; `encrypted` tells a password-protected file apart."""

    def __init__(self, message: str, *, encrypted: bool = False) -> None:
        super().__init__(message)
        self.encrypted = encrypted


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise UnreadablePdf("encrypted PDF", encrypted=True) from error
        raise UnreadablePdf(f"unreadable PDF (PDFium error {error.err_code})") from error


def page_count(path: Path) -> int:
    """How many pages the PDF has (only the first MAX_PAGES are ever drawn)."""
    with _PDFIUM:
        document = _open(path)
        try:
            return len(document)
        finally:
            document.close()


def scale_for(width: float, height: float) -> float:
    """The scale drawing a page of `width` x `height` points about TARGET_WIDTH pixels wide."""
    if width <= 0 or height <= 0:
        raise UnreadablePdf("a page without a size")
    return min(TARGET_WIDTH / width, MAX_SIDE / width, MAX_SIDE / height, MAX_SCALE)


def render_page(path: Path, number: int) -> bytes:
    """Page `number` (1-based) as PNG bytes; IndexError when there is no such page to show."""
    with _PDFIUM:
        document = _open(path)
        try:
            if not 1 <= number <= min(len(document), MAX_PAGES):
                raise IndexError(number)
            page = document[number - 1]
            try:
                width, height = page.get_size()
                bitmap = page.render(scale=scale_for(width, height), may_draw_forms=False)
                try:
                    buffer = io.BytesIO()
                    bitmap.to_pil().save(buffer, format="PNG", optimize=False)
                    return buffer.getvalue()
                finally:
                    bitmap.close()
            except pdfium.PdfiumError as error:
                raise UnreadablePdf(f"page {number} cannot be drawn") from error
            finally:
                page.close()
        finally:
            document.close()
