"""Reading invoices for the user: how many of the facts they print are read right, and how long
one invoice takes, per kind of document (text PDFs, photos).

The documents are the test corpus (tests/support/invoice_corpus.py), drawn with varied values;
the photos are of those PDFs, turned, skewed, at 150 or 100 dpi. A fact counts as present when
the invoice prints it (an invoice whose totals do not add up has no amounts to propose), as
right when the reading gives exactly that, and as wrong when the reading proposes a value that
is not the printed one: a wrong pre-filled field costs the user more than an empty one.
Goals: 95 % of the key facts (totals, numbers, SIRENs) of text PDFs, 80 % of photos'. Nothing
is asserted. Tesseract must be installed for the photos (apt tesseract-ocr-fra). More with
PORTAL_BENCH_TEXT_PDFS and PORTAL_BENCH_PHOTOS (and PORTAL_BENCH_FACTURX_PDFS for the Factur-X invoices of every profile,
whose goal is 100 %).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from portal.reading.facturx import read_facturx
from portal.reading.ocr import ocr_available, ocr_text
from portal.reading.result import OCR, TEXT, Party, Reading, TaxLine
from portal.reading.text import pdf_text, read_text
from tests.support import facturx_samples
from tests.support.invoice_corpus import LAYOUTS, facts_of, photo_of

TEXT_PDFS = int(os.environ.get("PORTAL_BENCH_TEXT_PDFS", "20"))
PHOTOS = int(os.environ.get("PORTAL_BENCH_PHOTOS", "10"))
# The facts the goals are about, then the best-effort ones, by group.
KEY_GROUPS = {
    "totals": ("total_net", "total_tax", "total_gross", "amount_due", "taxes"),
    "numbers": ("number",),
    "SIRENs": ("seller.siren", "buyer.siren"),
}
OTHER_GROUPS = {
    "VAT numbers": ("seller.vat_number", "buyer.vat_number"),
    "dates": ("issue_date", "due_date"),
    "credit note": ("credit_note",),
    "names": ("seller.name", "buyer.name", "seller.legal_form"),
    "addresses": ("seller.street", "seller.postal_code", "seller.city"),
}
PHOTO_VARIANTS = (
    {"rotate": 0, "dpi": 150, "skew_degrees": 1},
    {"rotate": 90, "dpi": 150, "skew_degrees": 2},
    {"rotate": 180, "dpi": 100, "skew_degrees": 0.5},
    {"rotate": 270, "dpi": 100, "jpeg_quality": 60, "skew_degrees": 3},
    {"rotate": 0, "dpi": 100, "skew_degrees": 2.5},
)
Document = tuple[bytes, dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A kind of document: how to make some, with their true facts, and how to read one."""

    name: str
    documents: Callable[[], Iterator[Document]]
    read: Callable[[bytes], Reading | None]
    available: Callable[[], bool] = lambda: True


def text_pdfs() -> Iterator[Document]:
    for n in range(TEXT_PDFS):
        yield LAYOUTS[n % len(LAYOUTS)](100 + n)


def photos() -> Iterator[Document]:
    for n in range(PHOTOS):
        content, expected = LAYOUTS[n % len(LAYOUTS)](200 + n)
        yield photo_of(content, **PHOTO_VARIANTS[n % len(PHOTO_VARIANTS)]), expected


def read_pdf(content: bytes) -> Reading | None:
    return read_text(pdf_text(content), TEXT)


def read_photo(content: bytes) -> Reading | None:
    return read_text(ocr_text(content, "image/jpeg"), OCR)


FACTURX_PDFS = int(os.environ.get("PORTAL_BENCH_FACTURX_PDFS", "20"))
_RATE_SETS = (
    {"20": "1041.67"},
    {"20": "812.40", "5.5": "96.10"},
    {"10": "54.55", "20": "18.00", "0": "7.50"},
)


def facturx_pdfs() -> Iterator[Document]:
    """Every profile in turn, with one to three VAT rates, now and then a credit note or an
    invoice in dollars; the truth is what the sample's XML states."""
    for n in range(FACTURX_PDFS):
        profile = facturx_samples.PROFILES[n % len(facturx_samples.PROFILES)]
        facts = facturx_samples.sample(
            profile,
            bases=_RATE_SETS[n % len(_RATE_SETS)],
            number=f"FX-2026-{n:04d}",
            credit_note=n % 7 == 3,
            currency="USD" if n % 5 == 4 else "EUR",
            euro_rate="0.92" if n % 5 == 4 else None,
        )
        yield facturx_samples.facturx_pdf(facts), _facturx_truth(facts)


def _facturx_truth(facts: facturx_samples.Sample) -> dict[str, Any]:
    rich = facts.profile != "minimum"  # MINIMUM states no breakdown, due date nor address
    seller, buyer = facts.seller, facts.buyer

    def party(company: facturx_samples.Company, *, seller: bool) -> Party:
        return Party(
            name=company.name,
            siren=company.siren,
            vat_number=company.vat_number if seller or rich else None,
            legal_form=company.legal_form.split()[0]
            if seller and facts.profile in ("en16931", "extended")
            else None,
            street=company.street if rich else None,
            postal_code=company.postal_code if rich else None,
            city=company.city if rich else None,
        )

    truth = Reading(
        source="xml",
        number=facts.number,
        issue_date=facts.issue_date,
        due_date=facts.due_date if rich else None,
        credit_note=facts.credit_note,
        seller=party(seller, seller=True),
        buyer=party(buyer, seller=False),
        taxes=tuple(TaxLine(rate, base, tax) for rate, base, tax in facts.taxes) if rich else (),
        total_net=facts.total_net,
        total_tax=facts.total_tax,
        total_gross=facts.total_gross,
        amount_due=facts.total_gross,
    )
    return facts_of(truth)


KINDS = (
    Kind("Factur-X PDFs", facturx_pdfs, read_facturx),
    Kind("text PDFs", text_pdfs, read_pdf),
    Kind("photos", photos, read_photo, available=ocr_available),
)


@dataclass
class Score:
    right: int = 0
    present: int = 0
    wrong: int = 0

    def add(self, expected: Any, found: Any) -> None:
        if isinstance(expected, str) and isinstance(found, str):
            # A name OCR read as "imprimerie du Centre" is the right name, typed as printed.
            expected, found = expected.casefold(), found.casefold()
        if _stated(expected):
            self.present += 1
            self.right += found == expected
        if _stated(found) and found is not False and found != expected:
            self.wrong += 1

    def __iadd__(self, other: Score) -> Score:
        self.right += other.right
        self.present += other.present
        self.wrong += other.wrong
        return self

    def line(self, label: str) -> str:
        share = self.right / self.present if self.present else 1.0
        return f"  {label:24} {self.right:4} / {self.present:<4} {share:7.1%}   {self.wrong} wrong"


def _stated(value: Any) -> bool:
    return value is not None and value != ()


def measure(kind: Kind) -> None:
    groups = {**KEY_GROUPS, **OTHER_GROUPS}
    scores = {group: Score() for group in groups}
    seconds = []
    for content, expected in kind.documents():
        started = time.perf_counter()
        facts = facts_of(kind.read(content))
        seconds.append(time.perf_counter() - started)
        for group, keys in groups.items():
            for key in keys:
                scores[group].add(expected.get(key), facts[key])
    if not seconds:
        print(f"{kind.name}: none asked for")
        return
    key = Score()
    for group in KEY_GROUPS:
        key += scores[group]
    median = statistics.median(seconds) * 1000
    print(f"{kind.name}: {len(seconds)} invoices, median {median:.0f} ms per invoice")
    print(key.line("key facts (the goal)"))
    for group, score in scores.items():
        print(score.line(group))


def main() -> None:
    for kind in KINDS:
        if kind.available():
            measure(kind)
        else:
            print(f"{kind.name}: skipped (not available here)")


if __name__ == "__main__":
    main()
