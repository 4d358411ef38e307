"""OCR of photographed and scanned invoices with the real Tesseract: photos turned any way,
scanned PDFs, and the refusals (oversized images, timeouts, failures) as OcrError."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import img2pdf
import pytest
from PIL import Image

from portal.reading import ocr
from portal.reading.ocr import OcrError, ocr_available, ocr_text
from portal.reading.result import OCR
from portal.reading.text import read_text
from tests.support import invoice_corpus

pytestmark = pytest.mark.skipif(
    not Path(ocr.TESSERACT).exists(), reason="Tesseract is not installed (apt tesseract-ocr-fra)"
)
EXIF_ORIENTATION = 0x0112


def fake_tesseract(folder: Path, body: str, languages: str = "eng\nfra\nosd") -> str:
    """A stand-in for Tesseract: lists `languages`, and runs `body` for anything else."""
    script = folder / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--list-langs" ]; then printf \'List of languages (n):\\n{languages}\\n\'; exit 0; fi\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return str(script)


def png_declaring(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header declares `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_ocr_is_available():
    assert ocr_available()


@pytest.mark.parametrize(
    ("layout", "photo"),
    [
        (invoice_corpus.classic_invoice, {"dpi": 150, "skew_degrees": 1}),
        (invoice_corpus.classic_invoice, {"rotate": 90, "dpi": 150, "skew_degrees": 2}),
        (invoice_corpus.multi_rate_invoice, {"rotate": 180, "dpi": 100}),
        (invoice_corpus.ticket_invoice, {"rotate": 270, "dpi": 150, "jpeg_quality": 60}),
        (invoice_corpus.english_invoice, {"dpi": 100, "skew_degrees": 3}),
    ],
    ids=["upright", "sideways", "upside-down-100dpi", "ticket-270", "skewed-100dpi"],
)
def test_photo_of_an_invoice_is_read(layout, photo):
    content, expected = layout(4)
    reading = read_text(ocr_text(invoice_corpus.photo_of(content, **photo), "image/jpeg"), OCR)
    facts = invoice_corpus.facts_of(reading)
    keys = ("number", "issue_date", "seller.siren", "total_net", "total_tax", "total_gross")
    assert {key: facts[key] for key in keys} == {key: expected[key] for key in keys}


def test_totals_that_do_not_add_up_are_not_proposed_from_a_photo():
    content, expected = invoice_corpus.inconsistent_invoice(1)
    reading = read_text(ocr_text(invoice_corpus.photo_of(content), "image/jpeg"), OCR)
    assert reading.number == expected["number"] and reading.total_gross is None


def test_scanned_pdf_is_read_page_by_page():
    first, expected = invoice_corpus.classic_invoice(5)
    second, _ = invoice_corpus.ticket_invoice(5)
    photos = [invoice_corpus.photo_of(content, dpi=100) for content in (first, second)]
    scan = img2pdf.convert(photos)
    text = ocr_text(scan, "application/pdf")
    assert expected["number"] in text and "Merci de votre visite" in text
    assert "Merci" not in ocr_text(scan, "application/pdf", max_pages=1)


@pytest.mark.parametrize("kind", ["PNG", "BMP"])
def test_png_and_bmp_images(kind):
    content, expected = invoice_corpus.ticket_invoice(2)
    image = Image.open(io.BytesIO(invoice_corpus.photo_of(content)))
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    assert expected["number"] in ocr_text(buffer.getvalue(), f"image/{kind.lower()}")


def test_exif_orientation_is_applied():
    upright = Image.new("L", (300, 400), 255)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored turned a quarter left: shown turned back right
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", exif=exif.tobytes())
    assert ocr._image(buffer.getvalue()).size == (300, 400)


def test_pages_are_turned_without_orientation_data(tmp_path, monkeypatch):
    """Without Tesseract's `osd` data the four turns are tried, the one with most words kept."""
    monkeypatch.setattr(
        ocr, "TESSERACT", fake_tesseract(tmp_path, 'exec /usr/bin/tesseract "$@"', "eng\nfra")
    )
    content, expected = invoice_corpus.classic_invoice(6)
    text = ocr_text(invoice_corpus.photo_of(content, rotate=180), "image/jpeg")
    assert expected["number"] in text


def test_image_over_the_pixel_limit_is_refused_undecoded():
    with pytest.raises(OcrError, match="too large"):
        ocr_text(png_declaring(7000, 7000), "image/png")


def test_decompression_bomb_is_refused():
    with pytest.raises(OcrError, match="too large"):
        ocr_text(png_declaring(40_000, 40_000), "image/png")


def test_very_large_image_is_scaled_down_for_tesseract():
    buffer = io.BytesIO()
    Image.new("L", (6000, 5000), 255).save(buffer, format="PNG")  # 30 megapixels: accepted
    image = ocr._image(buffer.getvalue())
    assert image.width * image.height <= ocr.MAX_OCR_PIXELS


def test_tiny_timeout_is_an_error():
    content, _ = invoice_corpus.classic_invoice()
    with pytest.raises(OcrError, match="timed out"):
        ocr_text(invoice_corpus.photo_of(content), "image/jpeg", timeout=0.01)


def test_tesseract_is_killed_at_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "TESSERACT", fake_tesseract(tmp_path, "sleep 30"))
    started = time.monotonic()
    with pytest.raises(OcrError, match="timed out"):
        ocr_text(
            invoice_corpus.photo_of(invoice_corpus.ticket_invoice()[0]), "image/jpeg", timeout=1.0
        )
    assert time.monotonic() - started < 5


def test_tesseract_failure_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "TESSERACT", fake_tesseract(tmp_path, "echo broken >&2; exit 3"))
    with pytest.raises(OcrError, match="exited with 3: broken"):
        ocr_text(invoice_corpus.photo_of(invoice_corpus.ticket_invoice()[0]), "image/jpeg")


def test_missing_tesseract(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "TESSERACT", str(tmp_path / "nowhere"))
    assert not ocr_available()
    with pytest.raises(OcrError, match="cannot be run"):
        ocr_text(invoice_corpus.photo_of(invoice_corpus.ticket_invoice()[0]), "image/jpeg")


@pytest.mark.parametrize(
    ("content", "media_type", "message"),
    [
        (b"not an image", "image/jpeg", "cannot be decoded"),
        (b"%PDF-1.7 broken", "application/pdf", "cannot be opened"),
        (b"GIF89a", "image/gif", "cannot OCR"),
    ],
)
def test_unreadable_files_are_errors(content, media_type, message):
    with pytest.raises(OcrError, match=message):
        ocr_text(content, media_type)


def test_language_cannot_smuggle_options():
    with pytest.raises(OcrError, match="language"):
        ocr_text(b"", "image/png", language="fra --tessdata-dir /tmp")
