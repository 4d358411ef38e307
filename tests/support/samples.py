"""Small files and entries that pass OneConnect's rules, to build tests on."""

from __future__ import annotations

from typing import Any

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
JPEG = b"\xff\xd8\xff\xe0" + bytes(32)
BMP = b"BM" + bytes(32)


def amounts(amount: float) -> dict[str, Any]:
    """One side of an entry line in euros."""
    return {"amount": amount, "currency": "EUR", "currencyAmount": amount, "currencyRate": 1}


def line(account: str, debit: float, credit: float, **optional: str) -> dict[str, Any]:
    """A purchase journal line with every required field."""
    return {
        "date": "2026-03-09T00:00:00.000Z",
        "debit": amounts(debit),
        "credit": amounts(credit),
        "journal": "ACH",
        "account": account,
        "reference": "FA-2026-042",
        **optional,
    }


def entries(*lines: dict[str, Any]) -> dict[str, Any]:
    """The entries document; two balanced lines by default."""
    chosen = lines or (
        line("40100000", 120.0, 0, thirdPartyLabel="Fournisseur Exemple", label="Électricité"),
        line("60100000", 0, 120.0),
    )
    return {"data": {"lines": list(chosen)}}


ORGANIZATION = {
    "name": "Boulangerie Martin",
    "siren": "123456789",
    "legalForm": "SARL",
    "naf": "10.71C",
    "address": {"street": "1 rue du Four", "postalCode": "75006", "city": "Paris", "country": "FR"},
    "phoneNumber": "+33 1 23 45 67 89",
    "contactEmail": "contact@boulangerie-martin.fr",
}
