"""Photos of a multi-page invoice joined into one PDF."""

from __future__ import annotations

import io
import struct
import zlib

import img2pdf
import pytest
from PIL import Image
from pypdf import PageObject, PdfReader

from portal.deposits.files import inspect_upload
from portal.deposits.photos import MAX_PAGES, PhotoJoinError, join_photos
from portal.oneconnect import spec

A4_SIZES = {(595, 842), (842, 595)}
EXIF_ORIENTATION = 0x0112
RED = (255, 0, 0)
WHITE = (255, 255, 255)


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (400, 300), orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    return encoded(Image.new("RGB", size, (200, 220, 240)), "JPEG", exif=exif.tobytes())


def half_transparent_png(size: tuple[int, int] = (300, 400)) -> bytes:
    """Opaque red on the left half, fully transparent (but green underneath) on the right."""
    image = Image.new("RGBA", size, (0, 255, 0, 0))
    image.paste((*RED, 255), (0, 0, size[0] // 2, size[1]))
    return encoded(image, "PNG")


def bmp(size: tuple[int, int] = (600, 200)) -> bytes:
    return encoded(Image.new("RGB", size, RED), "BMP")


def png_16_bit(colour_type: int, channels: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """A 16-bit PNG written by hand: Pillow can read such files but not write them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    width, height = size
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    row = b"\x00" + b"\x12\x34" * channels * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def streams(*contents: bytes) -> list[io.BytesIO]:
    return [io.BytesIO(content) for content in contents]


def pages_of(pdf: bytes) -> list[PageObject]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def page_size(page: PageObject) -> tuple[int, int]:
    box = page.mediabox
    return round(float(box.width)), round(float(box.height))


def upright_size(page: PageObject) -> tuple[int, int]:
    """The page as a reader sees it, after its /Rotate."""
    width, height = page_size(page)
    return (height, width) if page.rotation % 180 else (width, height)


def only_image(page: PageObject) -> Image.Image:
    (image,) = page.images
    return image.image


def test_each_photo_becomes_one_a4_page_in_order() -> None:
    pdf = join_photos(streams(jpeg((400, 300)), half_transparent_png((300, 400)), bmp((600, 200))))

    pages = pages_of(pdf)
    assert len(pages) == 3
    assert all(page_size(page) in A4_SIZES for page in pages)
    assert [only_image(page).size for page in pages] == [(400, 300), (300, 400), (600, 200)]


def test_a_large_72_dpi_phone_photo_fills_an_a4_page_rather_than_a_metre() -> None:
    photo = encoded(Image.new("RGB", (3000, 4000), WHITE), "JPEG", dpi=(72, 72))

    (page,) = pages_of(join_photos(streams(photo)))

    assert page_size(page) == (595, 842)


def test_a_landscape_photo_gets_a_landscape_page() -> None:
    (page,) = pages_of(join_photos(streams(bmp((600, 200)))))

    assert page_size(page) == (842, 595)
    assert page.rotation == 0


def test_the_exif_orientation_of_a_phone_photo_is_respected() -> None:
    # Stored landscape, shot portrait: EXIF orientation 6 says "turn 90° clockwise".
    (page,) = pages_of(join_photos(streams(jpeg((400, 300), orientation=6))))

    assert page.rotation == 90
    assert upright_size(page) == (595, 842)


def test_jpeg_photos_are_embedded_byte_for_byte() -> None:
    first, second = jpeg((400, 300), orientation=6), jpeg((300, 400))

    pdf = join_photos(streams(first, second))

    assert first in pdf
    assert second in pdf


def test_a_cmyk_jpeg_is_embedded_unchanged() -> None:
    photo = encoded(Image.new("CMYK", (300, 400), (0, 100, 0, 0)), "JPEG")

    assert photo in join_photos(streams(photo))


def test_transparency_is_laid_on_white_paper_keeping_the_visible_pixels() -> None:
    (page,) = pages_of(join_photos(streams(half_transparent_png((300, 400)))))

    image = only_image(page)
    assert image.mode == "RGB"
    assert image.getpixel((10, 10)) == RED
    assert image.getpixel((290, 10)) == WHITE


def test_palette_transparency_is_laid_on_white_paper() -> None:
    palette_image = Image.new("P", (40, 30), 0)
    palette_image.putpalette([0, 255, 0, *RED])
    palette_image.paste(1, (0, 0, 20, 30))
    photo = encoded(palette_image, "PNG", transparency=0)

    (page,) = pages_of(join_photos(streams(photo)))

    image = only_image(page).convert("RGB")
    assert image.getpixel((5, 5)) == RED
    assert image.getpixel((35, 5)) == WHITE


def test_a_transparent_png_keeps_its_exif_orientation() -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    photo = encoded(Image.new("RGBA", (400, 300), (*RED, 128)), "PNG", exif=exif.tobytes())

    (page,) = pages_of(join_photos(streams(photo)))

    assert upright_size(page) == (595, 842)
    assert only_image(page).size == (300, 400)


def test_a_bmp_is_converted_without_losing_a_pixel() -> None:
    original = Image.new("RGB", (60, 40), RED)
    original.paste((10, 20, 30), (0, 0, 30, 40))

    (page,) = pages_of(join_photos(streams(encoded(original, "BMP"))))

    assert only_image(page).convert("RGB").tobytes() == original.tobytes()


def test_a_16_bit_png_without_transparency_is_joined() -> None:
    (page,) = pages_of(join_photos(streams(png_16_bit(colour_type=2, channels=3))))

    assert page_size(page) in A4_SIZES


def test_a_16_bit_png_with_an_alpha_channel_is_laid_on_white_paper() -> None:
    # img2pdf alone refuses it ("multiple >8bit channels").
    (page,) = pages_of(join_photos(streams(png_16_bit(colour_type=6, channels=4))))

    assert only_image(page).mode == "RGB"


def test_a_16_bit_grey_png_with_transparency_is_refused_clearly() -> None:
    photo = encoded(Image.new("I;16", (40, 30), 3000), "PNG", transparency=3000)

    with pytest.raises(PhotoJoinError, match="Photo 1 is a 16-bit greyscale image"):
        join_photos(streams(photo))


def test_the_joined_pdf_passes_the_deposit_checks() -> None:
    pdf = join_photos(streams(jpeg(orientation=6), half_transparent_png(), bmp()))

    inspected = inspect_upload(io.BytesIO(pdf), "photos.pdf")

    assert inspected.media_type == "application/pdf"
    assert not inspected.active_content


def test_streams_are_read_from_their_start_and_left_open_and_rewound() -> None:
    pages = streams(jpeg(), bmp())
    pages[0].seek(0, io.SEEK_END)
    pages[1].seek(10)

    assert len(pages_of(join_photos(pages))) == 2
    assert [page.closed for page in pages] == [False, False]
    assert [page.tell() for page in pages] == [0, 0]


def test_more_than_the_maximum_of_pages_is_refused() -> None:
    with pytest.raises(PhotoJoinError, match=f"at most {MAX_PAGES} photos"):
        join_photos(streams(*[jpeg()] * (MAX_PAGES + 1)))


def test_the_maximum_of_pages_is_accepted() -> None:
    assert len(pages_of(join_photos(streams(*[jpeg()] * MAX_PAGES)))) == MAX_PAGES


def test_no_photo_is_refused() -> None:
    with pytest.raises(PhotoJoinError, match="at least one photo"):
        join_photos([])


def test_garbage_bytes_are_refused_naming_the_photo() -> None:
    with pytest.raises(PhotoJoinError, match="Photo 2 cannot be read"):
        join_photos(streams(jpeg(), b"not a photo at all"))


def test_a_photo_cut_short_is_refused_naming_it() -> None:
    whole = jpeg((400, 300))
    with pytest.raises(PhotoJoinError, match="Photo 1 cannot be read"):
        join_photos(streams(whole[: len(whole) // 2], jpeg()))


def test_an_image_of_another_format_is_refused() -> None:
    gif = encoded(Image.new("RGB", (40, 30), RED), "GIF")
    with pytest.raises(PhotoJoinError, match="Photo 1 is not a JPEG, PNG or BMP image"):
        join_photos(streams(gif))


def test_a_photo_img2pdf_cannot_embed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = jpeg((300, 400))
    real_convert = img2pdf.convert

    def convert_refusing_one(*images: bytes, **options: object) -> bytes:
        if refused in images:
            raise img2pdf.ImageOpenError("cannot read input image")
        return real_convert(*images, **options)

    monkeypatch.setattr(img2pdf, "convert", convert_refusing_one)
    with pytest.raises(PhotoJoinError, match="Photo 2 cannot be read"):
        join_photos(streams(jpeg(), refused, bmp()))


def test_photos_too_large_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    one_photo = join_photos(streams(jpeg()))
    monkeypatch.setattr(spec, "MAX_FILE_BYTES", len(one_photo) + 100)

    with pytest.raises(PhotoJoinError, match="larger than 5 MB"):
        join_photos(streams(jpeg(), jpeg()))


def test_a_mirrored_exif_orientation_is_ignored_rather_than_refused() -> None:
    # Orientation 2 (mirrored) cannot be shown by turning a PDF page (img2pdf's "ifvalid").
    assert len(pages_of(join_photos(streams(jpeg(orientation=2))))) == 1
