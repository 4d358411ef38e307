"""Invoice files: what they really are, checked by content before anything is stored or sent."""

from __future__ import annotations

import hashlib
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

import filetype
import pikepdf
from PIL import Image

from portal.catalogue import gettext as _
from portal.catalogue import lazy_gettext as _l
from portal.oneconnect import spec

# An A4 page at 600 dpi is ~35 megapixels; anything far larger is a decompression bomb.
Image.MAX_IMAGE_PIXELS = 60_000_000

_READ_CHUNK = 1024 * 1024
_ACTIVE_ACTIONS = (pikepdf.Name.JavaScript, pikepdf.Name.Launch)
_MAX_PDF_DEPTH = 8
_KIND_NAMES = {
    "application/pdf": _l("a PDF document"),
    "image/jpeg": _l("a JPEG image"),
    "image/png": _l("a PNG image"),
    "image/bmp": _l("a BMP image"),
}
MAX_FILE_NAME = 200


class InvalidInvoiceFile(ValueError):
    """The file cannot be deposited; the message says what it is and what to do."""


@dataclass(frozen=True)
class InspectedFile:
    media_type: str
    display_name: str
    size: int
    sha256: str
    active_content: bool


def inspect_upload(stream: BinaryIO, declared_name: str) -> InspectedFile:
    """Check size, type by content, name and structure; the stream is left rewound.

    Raises InvalidInvoiceFile with a message naming what the file really is.
    """
    size, digest = _measure(stream)
    if size == 0:
        raise InvalidInvoiceFile(_("The file is empty. Choose the invoice file again."))
    head = stream.read(8192)
    stream.seek(0)
    media_type = _sniff(head)
    extension = PurePath(declared_name).suffix.lower()
    if media_type is None:
        raise InvalidInvoiceFile(_describe_unsupported(head))
    if extension not in spec.MEDIA_TYPES[media_type]:
        raise InvalidInvoiceFile(
            _(
                "This file is %(kind)s, but its name ends in “%(extension)s”. Rename it with "
                "the right extension or choose another file.",
                kind=_KIND_NAMES[media_type],
                extension=extension or _("no extension"),
            )
        )
    active = _check_pdf(stream) if media_type == "application/pdf" else _check_image(stream)
    stream.seek(0)
    return InspectedFile(
        media_type=media_type,
        display_name=clean_file_name(declared_name, extension),
        size=size,
        sha256=digest,
        active_content=active,
    )


def _measure(stream: BinaryIO) -> tuple[int, str]:
    """Size and SHA-256, reading in chunks and stopping as soon as the limit is passed."""
    hasher = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(_READ_CHUNK):
        size += len(chunk)
        if size > spec.MAX_FILE_BYTES:
            stream.seek(0)
            raise InvalidInvoiceFile(
                _(
                    "The file is larger than 5 MB (5,000,000 bytes). Compress it or scan it at a lower resolution."
                )
            )
        hasher.update(chunk)
    stream.seek(0)
    return size, hasher.hexdigest()


def _sniff(head: bytes) -> str | None:
    kind = filetype.guess(head)
    if kind is not None and kind.mime in spec.MEDIA_TYPES:
        return kind.mime
    if kind is not None and kind.mime == "image/x-ms-bmp":
        return "image/bmp"
    return None


def _describe_unsupported(head: bytes) -> str:
    kind = filetype.guess(head)
    what = kind.mime if kind is not None else None
    if what is None:
        what = _("text") if _looks_like_text(head) else _("of an unknown type")
        return _(
            "This file is %(what)s, not an invoice format OneConnect accepts. "
            "Choose a PDF, JPEG, PNG or BMP file.",
            what=what,
        )
    return _(
        "This file is %(what)s (.%(extension)s), not an invoice format OneConnect accepts. "
        "Choose a PDF, JPEG, PNG or BMP file.",
        what=what,
        extension=kind.extension,
    )


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_pdf(stream: BinaryIO) -> bool:
    """Open the PDF with a real parser; True when it carries JavaScript or launch actions."""
    try:
        with pikepdf.open(stream) as pdf:
            if len(pdf.pages) == 0:
                raise InvalidInvoiceFile(_("This PDF has no pages. Choose the invoice file again."))
            if pdf.get_warnings():
                # qpdf opened it only by repairing it (a file cut short, a broken index): the
                # damaged bytes are what OneConnect would receive.
                raise InvalidInvoiceFile(
                    _(
                        "This PDF is damaged: it opens only after repair. Save or export it "
                        "again from the software that made it, then deposit the new copy."
                    )
                )
            return _has_active_content(pdf)
    except pikepdf.PasswordError as error:
        raise InvalidInvoiceFile(
            _("This PDF is protected by a password. Save an unprotected copy and deposit that.")
        ) from error
    except pikepdf.PdfError as error:
        raise InvalidInvoiceFile(
            _("This file starts like a PDF but cannot be read as one. It may be damaged.")
        ) from error


def _has_active_content(pdf: pikepdf.Pdf) -> bool:
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        return True
    return any(_holds_action(obj, depth=0) for obj in pdf.objects)


def _holds_action(obj: object, depth: int) -> bool:
    """A JavaScript or Launch action in this object or in the direct objects it nests."""
    if depth > _MAX_PDF_DEPTH:
        return False
    if isinstance(obj, pikepdf.Dictionary):
        if "/JS" in obj or obj.get("/S") in _ACTIVE_ACTIONS:
            return True
        children = list(obj.values())
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return False
    return any(
        _holds_action(child, depth + 1)
        for child in children
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect
    )


def _check_image(stream: BinaryIO) -> bool:
    """Verify the image structure, then decode it: only once its size is known to be a page's
    (pitfall 7), since a file shorter than its header says passes `verify()`."""
    start = stream.tell()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                image.verify()
            stream.seek(start)
            with Image.open(stream) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidInvoiceFile(
            _("This image is far larger than a scanned page. Scan it at a lower resolution.")
        ) from error
    except Exception as error:  # Pillow raises many types for damaged files
        raise InvalidInvoiceFile(
            _("This image cannot be read; it may be damaged. Choose the file again.")
        ) from error
    return False


def clean_file_name(declared: str, extension: str) -> str:
    """A display and upstream name: NFC, no separators or control characters, capped length."""
    name = unicodedata.normalize("NFC", PurePath(declared.replace("\\", "/")).name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "/\\:")
    stem = name[: -len(extension)] if extension and name.lower().endswith(extension) else name
    stem = stem.strip(" .") or "invoice"
    return stem[: MAX_FILE_NAME - len(extension)] + extension
