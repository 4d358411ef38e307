"""What was read from an invoice, whatever it was read from, kept as plain data (JSON) on the
draft and then on the deposit, so staff see what the invoice said beside what was sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

# Where a value was read: the embedded Factur-X XML, the PDF's own text, or OCR of an image.
XML = "xml"
TEXT = "text"
OCR = "ocr"
SOURCES = (XML, TEXT, OCR)


@dataclass(frozen=True)
class Party:
    """The seller or the buyer as the invoice names it."""

    name: str | None = None
    siren: str | None = None
    vat_number: str | None = None
    legal_form: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class TaxLine:
    """One line of the VAT breakdown: the base at one rate and its tax."""

    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Reading:
    """An invoice's facts, each None when the invoice did not state it (or not clearly)."""

    source: str
    profile: str | None = None  # the Factur-X profile, e.g. "EN 16931"
    number: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: str | None = None
    # EUR per unit of `currency`, when the invoice states it (EUR = amount times rate).
    exchange_rate: Decimal | None = None
    credit_note: bool = False
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    taxes: tuple[TaxLine, ...] = ()
    total_net: Decimal | None = None  # "Total HT"
    total_tax: Decimal | None = None  # "TVA"
    total_gross: Decimal | None = None  # "Total TTC"
    amount_due: Decimal | None = None  # "Net à payer"

    def to_data(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Reading:
        values = dict(data)
        for name in ("issue_date", "due_date"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        for name in ("exchange_rate", "total_net", "total_tax", "total_gross", "amount_due"):
            if values.get(name) is not None:
                values[name] = Decimal(values[name])
        for name in ("seller", "buyer"):
            values[name] = Party(**(values.get(name) or {}))
        values["taxes"] = tuple(
            TaxLine(Decimal(tax["rate"]), Decimal(tax["base"]), Decimal(tax["tax"]))
            for tax in values.get("taxes") or ()
        )
        known = {item.name for item in fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in known})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
