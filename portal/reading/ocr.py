"""The text of a photographed or scanned invoice, read by Debian's Tesseract command line.

Tesseract runs as a child process (never through a shell) in a temporary directory, on one
grayscale PNG per page, with one deadline for the whole document: past it the process is
killed and OcrError raised. Images are bounded before they are decoded (a 48 KB PNG may declare
400 megapixels), turned upright from their EXIF orientation, and scaled down when very large.

A page photographed sideways or upside down is turned upright from Tesseract's orientation
detection (`--psm 0`, the `osd` data) when it is installed and confident. When it is not, a
page whose text has too few of the commonest invoice words is read again turned by 90°, 180°
and 270°, keeping the reading with the most: four times the work, only for pages that need it.
Small photos are enlarged first, for both: at 100 dpi the orientation detection guesses.
"""

from __future__ import annotations

import functools
import io
import os
import re
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pypdfium2
import pypdfium2.raw
from PIL import Image, ImageOps

TESSERACT = "/usr/bin/tesseract"
# A page photographed at 600 dpi is ~35 megapixels: far above, refuse rather than decode.
MAX_IMAGE_PIXELS = 40_000_000
# What Tesseract is given at most (A4 at ~400 dpi): more costs time and reads no better.
MAX_OCR_PIXELS = 16_000_000
RENDER_DPI = 300
# The long side of an A4 page at ~280 dpi, and how much a small photo may be enlarged to it.
_TARGET_LONG_SIDE = 3300
_MAX_UPSCALE = 3.0
MEDIA_TYPES = ("image/jpeg", "image/png", "image/bmp", "application/pdf")
# Tesseract's orientation confidence: measured on our photos, below 1 when it was wrong, and
# from 2.9 up when right.
_MIN_ORIENTATION_CONFIDENCE = 2.0
# Words nearly every invoice has: a page read upright has some, upside down next to none
# (OCR of upside-down Latin letters gives word-like strings, `sainef`, `anueae`, but not these).
_COMMON_WORDS = frozenset(
    {
        "facture", "avoir", "date", "total", "montant", "prix", "tva", "net", "payer", "client",
        "rue", "avenue", "paiement", "siret", "siren", "capital", "les", "des", "pour", "par",
        "sur", "avec", "une", "invoice", "number", "due", "amount", "vat", "the", "and", "for",
    }
)  # fmt: skip
# Below this many common words, a page is read again turned, and the best reading kept.
_MIN_KNOWN_WORDS = 4
_LANGUAGE = re.compile(r"[a-z_]{3,8}(\+[a-z_]{3,8})*")
_WORD = re.compile(r"[^\W\d_]{3,}")
_ROTATE = re.compile(r"^Rotate: (\d+)$", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence: ([\d.]+)$", re.MULTILINE)
# Tesseract's turn (clockwise degrees to make the page upright) as a Pillow transpose.
_TURNS = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


class OcrError(RuntimeError):
    """The document could not be read by OCR; the message is for the logs."""


def ocr_available() -> bool:
    """Whether Tesseract and its French data are installed."""
    return "fra" in _languages(TESSERACT)


def ocr_text(
    content: bytes,
    media_type: str,
    *,
    timeout: float = 30.0,
    max_pages: int = 3,
    language: str = "fra",
) -> str:
    """The text Tesseract reads on the image, or on the first `max_pages` pages of the PDF
    (rendered at 300 dpi), pages separated by a blank line.

    Raises OcrError for an unsupported or unreadable file, an image over MAX_IMAGE_PIXELS,
    a missing Tesseract, a failure of it, or when the whole reading takes over `timeout` s.
    """
    if not _LANGUAGE.fullmatch(language):
        raise OcrError(f"invalid OCR language {language!r}")
    deadline = time.monotonic() + timeout
    if media_type == "application/pdf":
        pages = _pdf_pages(content, max_pages, deadline)
    elif media_type in MEDIA_TYPES:
        pages = [_image(content)]
    else:
        raise OcrError(f"cannot OCR a file of type {media_type!r}")
    with tempfile.TemporaryDirectory(prefix="portal-ocr-") as folder:
        reader = _Reader(Path(folder), language, deadline)
        return "\n\n".join(reader.page_text(page, number) for number, page in enumerate(pages))


def _image(content: bytes) -> Image.Image:
    """The photo, upright from its EXIF orientation, grayscale, at most MAX_OCR_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise OcrError(f"image of {width}x{height} pixels is too large to OCR")
                upright = ImageOps.exif_transpose(image)
                gray = upright.convert("L")
    except OcrError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise OcrError(f"image is too large to OCR: {error}") from error
    except Exception as error:  # Pillow raises many types for damaged files
        raise OcrError(f"image cannot be decoded: {error}") from error
    return _bounded(gray)


def _bounded(image: Image.Image) -> Image.Image:
    pixels = image.width * image.height
    if pixels <= MAX_OCR_PIXELS:
        return image
    scale = (MAX_OCR_PIXELS / pixels) ** 0.5
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _scaled_for_ocr(image: Image.Image) -> Image.Image:
    """The image enlarged when its text is likely too small for Tesseract (and its orientation
    detection), which reads best around 300 dpi: a photo of a page at 100 dpi is read far
    better three times as large. The page is taken to fill the photo."""
    factor = min(_MAX_UPSCALE, _TARGET_LONG_SIDE / max(image.size))
    if factor < 1.25:
        return image
    factor = min(factor, (MAX_OCR_PIXELS / (image.width * image.height)) ** 0.5)
    size = (int(image.width * factor), int(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def pdf_has_images(content: bytes, *, max_pages: int = 3) -> bool:
    """Whether the first pages draw any image: a PDF with neither text nor image (a blank
    page, vector art) holds nothing OCR could read."""
    try:
        document = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError:
        return False
    try:
        for number in range(min(len(document), max_pages)):
            page = document[number]
            try:
                if any(page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2)):
                    return True
            finally:
                page.close()
    finally:
        document.close()
    return False


def _pdf_pages(content: bytes, max_pages: int, deadline: float) -> list[Image.Image]:
    """The first pages rendered in grayscale at RENDER_DPI, or less for a page so large that
    it would exceed MAX_OCR_PIXELS (a PDF page may declare 5 metres)."""
    try:
        document = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError as error:
        raise OcrError(f"PDF cannot be opened: {error}") from error
    pages = []
    try:
        for number in range(min(len(document), max_pages)):
            if time.monotonic() > deadline:
                raise OcrError("OCR timed out while rendering the PDF")
            page = document[number]
            try:
                width, height = page.get_size()  # points
                scale = RENDER_DPI / 72
                scale = min(scale, (MAX_OCR_PIXELS / max(width * height, 1)) ** 0.5)
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    pages.append(bitmap.to_pil().convert("L"))
                finally:
                    bitmap.close()
            finally:
                page.close()
    finally:
        document.close()
    return pages


class _Reader:
    """Runs Tesseract on page images in one folder, against one deadline."""

    def __init__(self, folder: Path, language: str, deadline: float) -> None:
        self.folder = folder
        self.language = language
        self.deadline = deadline
        self.executable = TESSERACT
        self.osd = "osd" in _languages(self.executable)

    def page_text(self, image: Image.Image, number: int) -> str:
        image = _scaled_for_ocr(image)
        path = self._save(image, f"page-{number}")
        turn = self._orientation(path) if self.osd else None
        if turn:
            path = self._save(image.transpose(_TURNS[turn]), f"page-{number}-upright")
        text = self._read(path)
        if turn is not None or _known_words(text) >= _MIN_KNOWN_WORDS:
            return text
        readings = [text]
        for degrees, transpose in _TURNS.items():
            turned = self._save(image.transpose(transpose), f"page-{number}-{degrees}")
            readings.append(self._read(turned))
        return max(readings, key=_known_words)

    def _save(self, image: Image.Image, name: str) -> Path:
        path = self.folder / f"{name}.png"
        image.save(path, format="PNG", compress_level=1)
        return path

    def _read(self, path: Path) -> str:
        return self._run(str(path), "stdout", "-l", self.language, "--psm", "3").strip()

    def _orientation(self, path: Path) -> int | None:
        """Degrees (clockwise) to turn the page upright; None when Tesseract cannot tell."""
        try:
            report = self._run(str(path), "stdout", "--psm", "0")
        except _Unreadable:  # "Too few characters": too little text to tell
            return None
        turn, confidence = _ROTATE.search(report), _CONFIDENCE.search(report)
        if turn is None or confidence is None:
            return None
        if float(confidence[1]) < _MIN_ORIENTATION_CONFIDENCE:
            return None
        return int(turn[1]) if int(turn[1]) in (0, *_TURNS) else None

    def _run(self, *arguments: str) -> str:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OcrError("OCR timed out")
        try:
            # run() kills the child when the timeout expires, then reaps it.
            completed = subprocess.run(
                [self.executable, *arguments],
                capture_output=True,
                timeout=remaining,
                cwd=self.folder,
                env=_environment(),
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise OcrError(f"OCR timed out after {error.timeout:.1f} s") from error
        except OSError as error:
            raise OcrError(f"tesseract cannot be run: {error}") from error
        if completed.returncode != 0:
            message = completed.stderr.decode("utf-8", "replace").strip()[-500:]
            raise _Unreadable(f"tesseract exited with {completed.returncode}: {message}")
        return completed.stdout.decode("utf-8", "replace")


class _Unreadable(OcrError):
    """Tesseract ran but gave up on the image."""


def _environment() -> dict[str, str]:
    # One thread per OCR: the portal's workers run several at once. Only what Tesseract needs
    # is passed on (no secret of the portal's environment reaches the child).
    kept = {
        name: os.environ[name] for name in ("PATH", "LANG", "TESSDATA_PREFIX") if name in os.environ
    }
    return {**kept, "OMP_THREAD_LIMIT": "1"}


@functools.cache
def _languages(executable: str) -> frozenset[str]:
    """The languages Tesseract has data for; empty when it cannot be run."""
    try:
        completed = subprocess.run(
            [executable, "--list-langs"],
            capture_output=True,
            timeout=10,
            check=False,
            env=_environment(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    if completed.returncode != 0:
        return frozenset()
    lines = completed.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def _known_words(text: str) -> int:
    """How many of the text's words are among the commonest of French and English invoices."""
    return sum(1 for word in _WORD.findall(text.lower()) if word in _COMMON_WORDS)
