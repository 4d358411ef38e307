"""Invoice files made on the fly: real PDFs and images, and things that only pretend to be."""

from __future__ import annotations

import io
import os
import zipfile

import pikepdf
from PIL import Image


def pdf(javascript: bool = False, pages: int = 1, text: str = "", padding: int = 0) -> bytes:
    """A real PDF; `text` makes it differ from another, `padding` adds that many incompressible
    bytes (a large scan)."""
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page(page_size=(595, 842))
    if text:
        document.docinfo["/Title"] = text
    if padding:
        document.Root.Padding = document.make_stream(os.urandom(padding))
    if javascript:
        action = document.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        document.Root.OpenAction = action
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def image(
    kind: str = "PNG",
    size: tuple[int, int] = (60, 40),
    color: str | tuple[int, int, int] = (200, 220, 240),
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=kind)
    return buffer.getvalue()


def png() -> bytes:
    return image("PNG")


def jpeg(color: str | tuple[int, int, int] = (200, 220, 240)) -> bytes:
    return image("JPEG", color=color)


def bmp() -> bytes:
    return image("BMP")


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("invoice.txt", "not an invoice")
    return buffer.getvalue()


def oversize_pdf(limit: int = 5_000_000) -> bytes:
    """A real PDF followed by padding past the limit."""
    return pdf() + b"%" + b"0" * (limit + 10)
