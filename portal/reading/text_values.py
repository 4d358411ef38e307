"""The values an invoice's text holds, whatever its layout: amounts, rates, dates and company
identifiers (SIREN, SIRET, VAT number) with their check digits verified."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from portal.accounting.amounts import AmountError, parse_amount
from portal.accounting.identifiers import luhn_valid, siren_valid

# Spaces of every width a PDF or an OCR engine writes, tabs included.
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_APOSTROPHES = str.maketrans("\u2019\u2018`\u00b4", "''''")

# An amount with two decimals, grouped the French or the English way, never the head or the
# tail of a longer number (`28.11.2026`) nor a percentage (`5,50 %`).
_AMOUNT = re.compile(
    r"(?<![\d.,])(?P<minus>-\s?)?(?:€\s?)?"
    r"(?P<number>\d{1,3}(?:[ .,]\d{3})+[.,]\d{2}|\d+[.,]\d{2})"
    r"(?![.,]?\d)(?!\s?%)"
)
_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,3})?)\s?%")
_NUMERIC_DATE = re.compile(r"(?<![\d.,/])(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?![\d.,/]?\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})(?:er)?\s+([a-z]{3,9})\.?,?\s+(\d{4})(?!\d)")
_ENGLISH_DATE = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")
FRENCH_MONTHS = (
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
)
ENGLISH_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# SIREN grouped 3-3-3 or not, optionally followed by the NIC (5 digits) that makes it a SIRET.
_COMPANY_NUMBER = re.compile(r"(?<![\w.])(\d{3})[ .]?(\d{3})[ .]?(\d{3})(?:[ .]?(\d{5}))?(?![\d])")
_VAT_NUMBER = re.compile(r"\bfr[ .]?(\d{2})[ .]?(\d{3})[ .]?(\d{3})[ .]?(\d{3})(?!\d)")
T = TypeVar("T")
# La Poste's establishments share one SIREN whose SIRETs follow another rule (INSEE).
_LA_POSTE = "356000000"


def lines_of(text: str) -> list[str]:
    """The text's lines, NFC, each space run made one plain space; blank lines kept as ""."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return [_SPACES.sub(" ", line).strip() for line in text.split("\n")]


def fold(text: str) -> str:
    """Lower case without accents, character for character (a match's span in the folded text
    is its span in `text`), so labels match whatever the accents OCR kept."""
    return "".join(_fold_character(character) for character in text.translate(_APOSTROPHES))


def _fold_character(character: str) -> str:
    base = unicodedata.normalize("NFD", character)[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value and where it stands in its line."""

    value: T
    start: int
    end: int


def amounts_in(line: str) -> list[Found[Decimal]]:
    """Every amount with two decimals in the line, signed, in reading order."""
    found = []
    for match in _AMOUNT.finditer(line):
        try:
            value = parse_amount(match["number"])
        except AmountError:
            continue
        found.append(Found(-value if match["minus"] else value, match.start(), match.end()))
    return found


def rate_in(line: str) -> Decimal | None:
    """The first percentage of the line (`20 %`, `5,5%`, `(10%)`)."""
    match = _RATE.search(line)
    if match is None:
        return None
    rate = percent(match[1])
    return rate if rate <= 100 else None


def percent(digits: str) -> Decimal:
    """`20,00` → 20, `5,50` → 5.5 (no trailing zeros, and no exponent: `2E+1`)."""
    rate = Decimal(digits.replace(",", "."))
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def without_rates(line: str) -> str:
    """The line with its percentages blanked out (same length), so they read as no amount."""
    return _RATE.sub(lambda match: " " * len(match[0]), line)


def dates_in(line: str) -> list[Found[date]]:
    """Every date of the line, French order for numbers (`28/11/2026`), ISO, or in words in
    French or English (`28 novembre 2026`, `November 28, 2026`)."""
    folded = fold(line)
    found: list[Found[date]] = []
    for match in _NUMERIC_DATE.finditer(folded):
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
        _add_date(found, match, year, int(match[2]), int(match[1]))
    for match in _ISO_DATE.finditer(folded):
        _add_date(found, match, int(match[1]), int(match[2]), int(match[3]))
    for match in _WORD_DATE.finditer(folded):
        month = month_number(match[2])
        if month:
            _add_date(found, match, int(match[3]), month, int(match[1]))
    for match in _ENGLISH_DATE.finditer(folded):
        month = month_number(match[1])
        if month:
            _add_date(found, match, int(match[3]), month, int(match[2]))
    return sorted(found, key=lambda item: item.start)


def month_number(word: str) -> int | None:
    """1 to 12 for a French or English month name or its usual abbreviation (`nov`, `fevr`)."""
    for names in (FRENCH_MONTHS, ENGLISH_MONTHS):
        for number, name in enumerate(names, start=1):
            if word == name or (len(word) >= 3 and name.startswith(word) and word != "mar"):
                return number
    return 3 if word == "mar" else None


def _add_date(
    found: list[Found[date]], match: re.Match[str], year: int, month: int, day: int
) -> None:
    """Adds the date unless it is no calendar day, out of this century, or overlaps one found
    by an earlier pattern."""
    if not 2000 <= year <= 2099:
        return
    if any(item.start < match.end() and match.start() < item.end for item in found):
        return
    try:
        found.append(Found(date(year, month, day), match.start(), match.end()))
    except ValueError:
        return


@dataclass(frozen=True)
class CompanyNumber:
    """A SIREN read from a line, from a SIREN, a SIRET or a VAT number."""

    siren: str
    start: int
    end: int
    vat_number: str | None = None


def company_numbers_in(line: str) -> list[CompanyNumber]:
    """SIRENs and SIRETs whose check digits hold, in reading order."""
    found = []
    for match in _COMPANY_NUMBER.finditer(line):
        siren = match[1] + match[2] + match[3]
        if not siren_valid(siren):
            continue
        if match[4] is not None and not siret_valid(siren + match[4]):
            continue
        found.append(CompanyNumber(siren, match.start(), match.end()))
    return found


def siret_valid(siret: str) -> bool:
    if siret.startswith(_LA_POSTE):
        return sum(int(digit) for digit in siret) % 5 == 0
    return luhn_valid(siret)


def vat_numbers_in(line: str) -> list[CompanyNumber]:
    """French VAT numbers (`FR 32 123456789`) whose key fits their SIREN."""
    found = []
    for match in _VAT_NUMBER.finditer(fold(line)):
        siren = match[2] + match[3] + match[4]
        if siren_valid(siren) and int(match[1]) == vat_key(siren):
            found.append(CompanyNumber(siren, match.start(), match.end(), f"FR{match[1]}{siren}"))
    return found


def vat_key(siren: str) -> int:
    """The two check digits of the French VAT number of `siren`."""
    return (12 + 3 * (int(siren) % 97)) % 97
