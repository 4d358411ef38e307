"""Amounts typed the French way or the English way, kept as exact decimals."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Below 10^13 a two-decimal amount survives JSON's binary numbers exactly (see entries.py).
MAX_AMOUNT = Decimal("9999999999999.99")
# Spaces of every kind people (and spreadsheets) put between thousands.
_GROUPING_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")
# A euro sign or code before or after the number, as invoices print it: `1 000 €`, `€1000`,
# `1000 EUR`, `-5 €`, `-€5`. A minus sign may come before a leading one.
_EURO = r"(?:€|eur(?:os?)?)"
_EURO_BEFORE = re.compile(rf"(-?)\s*{_EURO}\s*(.*)", re.IGNORECASE | re.DOTALL)
_EURO_AFTER = re.compile(rf"(.*?)\s*{_EURO}", re.IGNORECASE | re.DOTALL)
# A three-letter code beside digits: `100 USD`, `CHF 100`.
_CODE_BEFORE = re.compile(r"([a-z]{3})\s*-?\d.*", re.IGNORECASE | re.DOTALL)
_CODE_AFTER = re.compile(r".*\d\s*([a-z]{3})", re.IGNORECASE | re.DOTALL)


class AmountError(ValueError):
    """The text is not an amount."""


class ForeignCurrency(AmountError):
    """The amount carries another currency than the euro (`$`, `£`, `USD`…): a line's currency
    has a field of its own, so its amounts are typed bare."""

    def __init__(self, text: str, currency: str) -> None:
        super().__init__(text)
        self.currency = currency


def euro_marked(text: str | None) -> bool:
    """Whether the amount is written with a euro sign or code (`1 000 €`, `EUR 1000`)."""
    return _without_euro((text or "").strip())[1]


def _without_euro(text: str) -> tuple[str, bool]:
    if match := _EURO_BEFORE.fullmatch(text):
        return match[1] + match[2], True
    if match := _EURO_AFTER.fullmatch(text):
        return match[1], True
    return text, False


def _foreign_currency(text: str) -> str | None:
    """The currency sign or code written beside the number, if any."""
    for character in text:
        if unicodedata.category(character) == "Sc" and character != "€":  # $ £ ¥ ₹ …
            return character
    match = _CODE_BEFORE.fullmatch(text) or _CODE_AFTER.fullmatch(text)
    return match[1].upper() if match else None


def parse_amount(text: str | None) -> Decimal:
    """`1 234,56`, `1234.56`, `1,234.56` or `1.234,56` → Decimal('1234.56'); blank → 0.

    The last of `,` and `.` is the decimal separator when both appear; a lone `,` is decimal
    (the French habit); a lone `.` is decimal too. A euro sign or `EUR` before or after the
    number is allowed (`1 000,50 €`). Raises ForeignCurrency for another currency's sign or
    code, AmountError for anything else, for more than two decimals (an invoice amount is in
    cents) or more than MAX_AMOUNT.
    """
    typed = (text or "").strip()
    number, marked = _without_euro(typed)
    raw = _GROUPING_SPACES.sub("", number)
    if raw in ("", "-"):
        if marked:  # a currency without its amount
            raise AmountError(text)
        return Decimal("0.00")
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        raw = raw.replace(grouping, "").replace(decimal_mark, ".")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    if not _PLAIN.fullmatch(raw):
        currency = _foreign_currency(typed)
        if currency is not None:
            raise ForeignCurrency(typed, currency)
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
    raw = _GROUPING_SPACES.sub("", _without_euro((text or "").strip())[0])
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
