"""Photos of a multi-page invoice joined into one PDF: one A4 page per photo, in order, losslessly.

JPEG photos are embedded byte for byte and PNG photos without transparency as they are (img2pdf
never re-encodes them). PNG photos with transparency, and BMP images, are first laid on white
paper and saved as RGB PNGs, which keeps every visible pixel: a PDF page has no transparency to
show, and BMP has no place in a PDF.

The photos are expected to have passed `portal.deposits.files.inspect_upload` one by one, which
also sets Pillow's decompression-bomb limit.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO, Final

import img2pdf
from PIL import Image, ImageOps

from portal.catalogue import gettext as _
from portal.oneconnect import spec

MAX_PAGES: Final = 20

_A4_PORTRAIT: Final = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))
# Every photo fills an A4 page turned its way: a phone's 72 dpi default would make a 4000-pixel
# photo a page 1.4 metres tall.
_FIT_INTO_A4: Final = img2pdf.get_layout_fun(
    pagesize=_A4_PORTRAIT, fit=img2pdf.FitMode.into, auto_orient=True
)
# Pillow names "MPO" the JPEGs of phones that add a preview image; they are JPEGs all the same.
_PHOTO_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG", "BMP"})
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# Modes whose ICC profile, if any, describes RGB colours, so it still fits the RGB copy.
_RGB_MODES: Final = frozenset({"RGB", "RGBA", "RGBa", "RGBX", "P", "PA"})
_PAPER_WHITE: Final = (255, 255, 255)


class PhotoJoinError(ValueError):
    """The photos cannot be joined; the message says which one and what to do."""


def join_photos(pages: Sequence[BinaryIO]) -> bytes:
    """One PDF with one A4 page per photo, in the order given.

    Each stream is rewound and read whole, then rewound again; none is closed.
    Raises PhotoJoinError with a message for the user.
    """
    _check_page_count(len(pages))
    images = [_embeddable_image(number, page) for number, page in enumerate(pages, start=1)]
    pdf = _images_to_pdf(images)
    _check_joined_size(pdf)
    return pdf


def _check_page_count(count: int) -> None:
    if count == 0:
        raise PhotoJoinError(_("Add at least one photo of the invoice."))
    if count > MAX_PAGES:
        raise PhotoJoinError(_("Join at most %(count)s photos into one invoice.", count=MAX_PAGES))


def _embeddable_image(number: int, stream: BinaryIO) -> bytes:
    """The photo's own bytes when img2pdf can embed them as they are, else a flattened RGB PNG."""
    data = _read_rewound(stream)
    with _open_photo(number, data) as photo:
        if _is_bmp_or_transparent(photo):
            return _on_white_paper_png(number, photo)
    return data


def _read_rewound(stream: BinaryIO) -> bytes:
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    return data


def _open_photo(number: int, data: bytes) -> Image.Image:
    """The photo decoded in full, so that a damaged or cut-short file is caught here."""
    try:
        photo = Image.open(io.BytesIO(data))
        photo.load()
    except Exception as error:  # Pillow raises many types for damaged files
        raise _unreadable(number) from error
    if photo.format not in _PHOTO_FORMATS:
        photo.close()
        raise PhotoJoinError(
            _(
                "Photo %(number)s is not a JPEG, PNG or BMP image; take it again or choose "
                "another file.",
                number=number,
            )
        )
    return photo


def _is_bmp_or_transparent(photo: Image.Image) -> bool:
    return photo.format == "BMP" or _has_transparency(photo)


def _has_transparency(photo: Image.Image) -> bool:
    return photo.mode in _ALPHA_MODES or "transparency" in photo.info


def _on_white_paper_png(number: int, photo: Image.Image) -> bytes:
    """The photo turned upright and laid on white paper, saved as an RGB PNG."""
    if _is_deep_grey(photo) and _has_transparency(photo):
        # Pillow clips 16-bit grey to white when converting it to RGB.
        raise PhotoJoinError(
            _(
                "Photo %(number)s is a 16-bit greyscale image with transparency, which cannot "
                "be joined. Save it without transparency, or take it again.",
                number=number,
            )
        )
    # The EXIF orientation is lost with the copy, so the pixels are turned now.
    upright = ImageOps.exif_transpose(photo)
    flat = _laid_on_white(upright) if _has_transparency(upright) else upright.convert("RGB")
    buffer = io.BytesIO()
    flat.save(buffer, format="PNG", **_rgb_colour_profile(photo))
    return buffer.getvalue()


def _is_deep_grey(photo: Image.Image) -> bool:
    return photo.mode.startswith(("I", "F"))


def _laid_on_white(photo: Image.Image) -> Image.Image:
    """What the photo looks like printed: opaque pixels kept, transparent ones paper white."""
    with_alpha = photo.convert("RGBA")
    paper = Image.new("RGB", with_alpha.size, _PAPER_WHITE)
    paper.paste(with_alpha, mask=with_alpha.getchannel("A"))
    return paper


def _rgb_colour_profile(photo: Image.Image) -> dict[str, bytes]:
    profile = photo.info.get("icc_profile")
    if profile and photo.mode in _RGB_MODES:
        return {"icc_profile": profile}
    return {}


def _images_to_pdf(images: list[bytes]) -> bytes:
    try:
        return _convert(*images)
    except Exception:
        # The joint conversion does not say which photo failed: find it by converting each alone.
        for number, image in enumerate(images, start=1):
            _check_converts_alone(number, image)
        raise


def _check_converts_alone(number: int, image: bytes) -> None:
    try:
        _convert(image)
    except Exception as error:  # img2pdf raises many types for images it cannot embed
        raise _unreadable(number) from error


def _convert(*images: bytes) -> bytes:
    pdf: bytes = img2pdf.convert(
        *images,
        layout_fun=_FIT_INTO_A4,
        rotation=img2pdf.Rotation.ifvalid,
        # One page per photo, even for an MPO that holds several full-size pictures.
        first_frame_only=True,
    )
    return pdf


def _unreadable(number: int) -> PhotoJoinError:
    return PhotoJoinError(_("Photo %(number)s cannot be read; take it again.", number=number))


def _check_joined_size(pdf: bytes) -> None:
    if len(pdf) > spec.MAX_FILE_BYTES:
        raise PhotoJoinError(
            _(
                "Together, these photos make a file larger than 5 MB (5,000,000 bytes). Join "
                "fewer photos into one invoice, or take them at a lower resolution."
            )
        )
