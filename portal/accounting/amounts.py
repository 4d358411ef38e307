"""Amounts typed the French way or the English way, kept as exact decimals."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Below 10^13 a two-decimal amount survives JSON's binary numbers exactly (see entries.py).
MAX_AMOUNT = Decimal("9999999999999.99")
# Spaces of every kind people (and spreadsheets) put between thousands.
_GROUPING_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")


class AmountError(ValueError):
    """The text is not an amount."""


def parse_amount(text: str | None) -> Decimal:
    """`1 234,56`, `1234.56`, `1,234.56` or `1.234,56` → Decimal('1234.56'); blank → 0.

    The last of `,` and `.` is the decimal separator when both appear; a lone `,` is decimal
    (the French habit); a lone `.` is decimal too. Raises AmountError for anything else, and
    for more than two decimals (an invoice amount is in cents) or more than MAX_AMOUNT.
    """
    raw = _GROUPING_SPACES.sub("", (text or "").strip())
    if raw in ("", "-"):
        return Decimal("0.00")
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        raw = raw.replace(grouping, "").replace(decimal_mark, ".")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    if not _PLAIN.fullmatch(raw):
        raise AmountError(text)
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise AmountError(text) from error
    if value != value.quantize(CENT) or abs(value) > MAX_AMOUNT:
        raise AmountError(text)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal, locale: str = "en") -> str:
    """Two decimals in the user's habit: `1,234.56` (en) or `1 234,56` (fr)."""
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    if locale.startswith("fr"):
        return text.replace(",", "\u202f").replace(".", ",")
    return text


def amount_style(text: str | None) -> str | None:
    """The habit an amount was typed in: "fr" (decimal comma), "en" (decimal point) or None.

    Follows parse_amount's reading; None when the text has no decimal mark (`1234`).
    """
    raw = _GROUPING_SPACES.sub("", (text or "").strip())
    if "," in raw and "." in raw:
        return "fr" if raw.rfind(",") > raw.rfind(".") else "en"
    if raw.count(",") == 1:
        return "fr"
    if raw.count(".") == 1:
        return "en"
    return None


# Exchange rates: up to six decimals, which keeps them exact as JSON numbers too.
RATE_PLACES = Decimal("0.000001")
MAX_RATE = Decimal("999999")
_RATE = re.compile(r"\d+([.,]\d+)?")


def parse_rate(text: str | None) -> Decimal | None:
    """`1,0856` or `1.0856` → Decimal('1.0856'); blank → None. Raises AmountError otherwise.

    A rate is positive, below MAX_RATE, with six decimals at most.
    """
    raw = _GROUPING_SPACES.sub("", (text or "").strip())
    if not raw:
        return None
    if not _RATE.fullmatch(raw):
        raise AmountError(text)
    value = Decimal(raw.replace(",", "."))
    if value <= 0 or value > MAX_RATE or value != value.quantize(RATE_PLACES):
        raise AmountError(text)
    return value


def to_eur(amount: Decimal, rate: Decimal) -> Decimal:
    """The euro amount of `amount` in a currency worth `rate` euros per unit, to the cent.

    ASSUMED reading of `currencyRate` (the public pages do not define it): euros per unit of
    the line's currency, so amount = currencyAmount * currencyRate, rounded half up once.
    """
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
