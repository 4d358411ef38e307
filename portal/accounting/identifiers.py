"""French company identifiers: SIREN (nine digits with a Luhn check digit) and NAF codes."""

from __future__ import annotations

import re

_SPACES = re.compile(r"[\s\u00a0\u202f.]")
_NAF = re.compile(r"(\d{2})\.?(\d{2})([A-Z])")


def normalize_siren(text: str | None) -> str:
    """`552 100 554` → `552100554` (spaces and dots people type between the groups dropped)."""
    return _SPACES.sub("", text or "")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum INSEE uses for SIREN numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siren_valid(text: str | None) -> bool:
    """Nine ASCII digits whose last one is the Luhn check digit of the first eight."""
    siren = normalize_siren(text)
    return len(siren) == 9 and siren.isascii() and luhn_valid(siren)


def normalize_naf(text: str | None) -> str | None:
    """`6201z`, `62.01Z` → `62.01Z`; None when it is not a NAF (APE) code."""
    match = _NAF.fullmatch((text or "").strip().upper())
    if match is None:
        return None
    return f"{match.group(1)}.{match.group(2)}{match.group(3)}"
