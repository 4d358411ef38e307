import io

import pytest

from portal.deposits.files import InvalidInvoiceFile, clean_file_name, inspect_upload
from tests.support import invoices


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [
        (invoices.pdf(), "invoice.pdf", "application/pdf"),
        (invoices.png(), "scan.PNG", "image/png"),
        (invoices.jpeg(), "photo.jpeg", "image/jpeg"),
        (invoices.jpeg(), "photo.jpg", "image/jpeg"),
        (invoices.bmp(), "old.bmp", "image/bmp"),
    ],
)
def test_accepted_files_are_recognised_by_content(
    content: bytes, name: str, media_type: str
) -> None:
    inspected = inspect_upload(io.BytesIO(content), name)
    assert inspected.media_type == media_type
    assert inspected.size == len(content)
    assert not inspected.active_content


def test_a_file_whose_content_does_not_match_its_extension_names_what_it_is() -> None:
    with pytest.raises(InvalidInvoiceFile, match=r"PNG image.*“\.pdf”"):
        inspect_upload(io.BytesIO(invoices.png()), "invoice.pdf")


def test_an_archive_is_refused_naming_its_type() -> None:
    with pytest.raises(InvalidInvoiceFile, match="application/zip"):
        inspect_upload(io.BytesIO(invoices.zip_archive()), "invoice.pdf")


def test_text_pretending_to_be_a_pdf_is_refused() -> None:
    with pytest.raises(InvalidInvoiceFile, match="text"):
        inspect_upload(io.BytesIO(b"hello, I am an invoice"), "invoice.pdf")


def test_a_damaged_pdf_is_refused() -> None:
    with pytest.raises(InvalidInvoiceFile, match="cannot be read"):
        inspect_upload(io.BytesIO(b"%PDF-1.7\n garbage garbage"), "invoice.pdf")


def test_a_pdf_cut_in_half_is_refused_though_it_could_be_repaired() -> None:
    whole = invoices.pdf()
    with pytest.raises(InvalidInvoiceFile, match="opens only after repair"):
        inspect_upload(io.BytesIO(whole[: len(whole) // 2]), "invoice.pdf")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (invoices.bmp()[:60], "old.bmp"),  # a header and no pixels
        (invoices.png()[:-30], "scan.png"),
        (invoices.jpeg()[: len(invoices.jpeg()) // 2], "photo.jpg"),
    ],
)
def test_an_image_shorter_than_its_header_says_is_refused(content: bytes, name: str) -> None:
    with pytest.raises(InvalidInvoiceFile, match="may be damaged"):
        inspect_upload(io.BytesIO(content), name)


def test_an_oversize_file_is_refused_before_being_read_whole() -> None:
    class CountingStream(io.BytesIO):
        read_total = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            CountingStream.read_total += len(chunk)
            return chunk

    stream = CountingStream(invoices.oversize_pdf() + b"0" * 20_000_000)
    with pytest.raises(InvalidInvoiceFile, match="5 MB"):
        inspect_upload(stream, "big.pdf")
    assert CountingStream.read_total < 7_000_000


def test_a_pdf_with_javascript_is_accepted_but_flagged() -> None:
    inspected = inspect_upload(io.BytesIO(invoices.pdf(javascript=True)), "invoice.pdf")
    assert inspected.active_content


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInvoiceFile, match="empty"):
        inspect_upload(io.BytesIO(b""), "invoice.pdf")


@pytest.mark.parametrize(
    ("declared", "extension", "expected"),
    [
        ("électricité.pdf", ".pdf", "électricité.pdf"),
        ("../../etc/passwd.pdf", ".pdf", "passwd.pdf"),
        ("C:\\Users\\me\\facture.PDF", ".pdf", "facture.pdf"),
        ("测试.pdf", ".pdf", "测试.pdf"),
        ("bad\x00name.pdf", ".pdf", "badname.pdf"),
        (".pdf", ".pdf", "invoice.pdf"),
    ],
)
def test_file_names_are_cleaned_but_keep_their_letters(
    declared: str, extension: str, expected: str
) -> None:
    assert clean_file_name(declared, extension) == expected
