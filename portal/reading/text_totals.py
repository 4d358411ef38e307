"""The totals an invoice's text prints, each under a label that says what it is and on the
same line ("Total HT 1 005,66 €"), before any check (`portal.reading.text` checks them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from portal.accounting.vat import VAT_RATES
from portal.reading.text_values import amounts_in, fold, percent, rate_in, without_rates

_NET = re.compile(
    r"^((sous[- ]?)?total|montant|net)\s*(h\.?t\.?\b|hors tax)|^sub-?total\b"
    r"|^total (excl|excluding|before|net|w/o|without)"
)
_TOTAL_TAX = re.compile(
    r"^(total|montant)( de la| des)? (t\.?v\.?a|taxes?\b|vat)|^vat total|^tax total"
)
# "TVAS5,5 %" is how OCR may read "TVA 5,5 %"; "TVAC" is the Belgian "TTC".
_TAX = re.compile(r"\b(t\.?v\.?a(?!c)|vat\b|tax(es)?\b)")
_TAX_NOT_AMOUNT = re.compile(
    r"intracom|numero|n\s?°|\bno\b|number|fr\s?\d{2}|non applicable|not applicable|client"
)
_GROSS = re.compile(
    r"^(total|montant|net)\s*(t\.?t\.?c|toutes taxes)|^total (incl|including|amount)"
)
# "Total" alone: Total TTC mostly (English invoices, VAT-exempt ones), an item table's sum
# sometimes; taken for Total TTC only when no label says TTC.
_BARE_TOTAL = re.compile(r"^total\s*(\(?(eur|€)\)?)?\s*:?$")
_DUE = re.compile(
    r"^(net a payer|reste a payer|montant a payer|total a payer|solde (du|a payer)|amount due"
    r"|balance due|a payer\s*:?$|total due)"
)
# A VAT table's header ("Taux  Base HT  Montant TVA"): rows below may start with their rate.
_TAX_TABLE_HEAD = re.compile(r"\b(taux|rate)\b")
_STARTS_WITH_RATE = re.compile(r"^\d{1,2}([.,]\d{1,3})?\s?%")
# "TVA 20" when OCR lost the "%": taken for a rate only when it is a French one.
_BARE_RATE = re.compile(r"^(?:t\.?v\.?a|vat)\.?\s*(\d{1,2}(?:[.,]\d{1,2})?)$")
# "TVAS,5 %": OCR read the 5 of "TVA 5,5 %" as an S.
_S_FOR_FIVE = re.compile(r"^(?:t\.?v\.?a)\s?s([.,]\d{1,2})\s?%")
_EXEMPT = re.compile(r"293 ?b|tva non applicable|vat not applicable|autoliquidation")
_PARTLY_PAID = re.compile(
    r"\b(acompte|arrhes|deja (regle|paye|verse)|avance|paid|deposit|avoir deduit)"
)
_ONLY_MARKS = re.compile(r"[\s€$:|*]*(eur(os?)?)?[\s€$:|*]*", re.IGNORECASE)
_TOLERANCE = Decimal("0.01")


@dataclass
class PrintedTotals:
    """The totals as labelled on the invoice, before any check."""

    net: Decimal | None = None
    tax: Decimal | None = None
    gross: Decimal | None = None
    due: Decimal | None = None
    total: Decimal | None = None  # "Total" alone
    # (rate, base or None, tax), one per rate.
    taxes: list[tuple[Decimal, Decimal | None, Decimal]] = field(default_factory=list)
    exempt: bool = False  # "TVA non applicable, art. 293 B du CGI"
    partly_paid: bool = False  # "Acompte versé": the amount due may be less than Total TTC
    conflict: bool = False  # one label printed twice with two values
    from_columns: bool = False  # an amount was paired with a label on another line

    @property
    def any(self) -> bool:
        return bool(self.taxes) or any(
            value is not None for value in (self.net, self.tax, self.gross, self.due, self.total)
        )


@dataclass(frozen=True)
class Row:
    """What one line holds for the totals: its label's kind and rate, and its amounts."""

    kind: str | None  # net, tax, gross, due, total, tax_line (one rate's VAT), or None
    rate: Decimal | None
    values: list[Decimal]
    label: str
    tax_head: bool

    @property
    def label_only(self) -> bool:
        return self.kind is not None and not self.values


def totals_in(lines: list[str]) -> PrintedTotals:
    """The totals whose label and amount share a line (see `text_columns` for the others)."""
    folded = [fold(line) for line in lines]
    totals = PrintedTotals(
        exempt=any(_EXEMPT.search(line) for line in folded),
        partly_paid=any(_PARTLY_PAID.search(line) for line in folded),
    )
    _same_line([row_of(line) for line in lines], totals)
    return totals


def row_of(line: str) -> Row:
    amounts = amounts_in(without_rates(line))
    label = fold(line[: amounts[0].start] if amounts else line).strip(" |:*-.")
    kind = _total_kind(label)
    tax_head = _TAX_TABLE_HEAD.search(label) is not None
    if tax_head:
        kind = None
    rate = tax_rate(label) if kind == "tax_line" or _STARTS_WITH_RATE.match(label) else None
    return Row(kind, rate, [item.value for item in amounts], label, tax_head)


def _total_kind(label: str) -> str | None:
    if _DUE.match(label):
        return "due"
    if _NET.match(label):
        return "net"
    if _GROSS.match(label):
        return "gross"
    if _BARE_TOTAL.match(label):
        return "total"
    if _TOTAL_TAX.match(label):
        return "tax"
    if _TAX.search(label) and not _TAX_NOT_AMOUNT.search(label):
        return "tax_line" if tax_rate(label) is not None else "tax"
    return None


def tax_rate(label: str) -> Decimal | None:
    if match := _S_FOR_FIVE.match(label):
        return percent("5" + match[1])
    if (rate := rate_in(label)) is not None:
        return rate
    if match := _BARE_RATE.search(label):
        rate = percent(match[1])
        return rate if rate in VAT_RATES and rate else None
    return None


def _same_line(rows: list[Row], totals: PrintedTotals) -> None:
    since_head = 99
    for row in rows:
        since_head = 0 if row.tax_head else since_head + 1
        if not row.values:
            continue
        table_row = since_head <= 4 and row.rate is not None and len(row.values) >= 2
        if row.kind == "tax_line" or table_row:
            add_tax_line(totals, row.rate, _base_and_tax(row.rate, row.values))  # type: ignore[arg-type]
        elif row.kind is not None:
            _set(totals, row.kind, row.values[-1])


def only_amounts(line: str) -> bool:
    """Whether the line holds nothing but amounts (and currency marks)."""
    rest = line
    for item in reversed(amounts_in(line)):
        rest = rest[: item.start] + rest[item.end :]
    return _ONLY_MARKS.fullmatch(rest) is not None


def _set(totals: PrintedTotals, kind: str, value: Decimal) -> None:
    current = getattr(totals, kind)
    if current is not None and current != value:
        totals.conflict = True
    setattr(totals, kind, value)


def add_tax_line(
    totals: PrintedTotals,
    rate: Decimal,
    pair: tuple[Decimal | None, Decimal],
    *,
    quiet: bool = False,
) -> None:
    """Adds one rate's (base, tax); the same rate again must say the same, unless `quiet`
    (a pairing from columns, which gives way to what a line said)."""
    base, tax = pair
    for index, (known_rate, known_base, known_tax) in enumerate(totals.taxes):
        if known_rate != rate:
            continue
        other_base = base is not None and known_base is not None and base != known_base
        if not quiet and (known_tax != tax or other_base):
            totals.conflict = True
        totals.taxes[index] = (rate, known_base if base is None else base, known_tax)
        return
    totals.taxes.append((rate, base, tax))


def _base_and_tax(rate: Decimal, amounts: list[Decimal]) -> tuple[Decimal | None, Decimal]:
    """The pair of a VAT line's amounts where tax = base * rate; else the last one as the tax
    and the one before it as the base, for the checks to judge."""
    for i, base in enumerate(amounts):
        for tax in amounts[i + 1 :]:
            if fits(rate, base, tax):
                return base, tax
    if len(amounts) >= 2:
        return amounts[-2], amounts[-1]
    return None, amounts[-1]


def fitting(rate: Decimal, first: Decimal, second: Decimal) -> tuple[Decimal, Decimal] | None:
    if fits(rate, first, second):
        return first, second
    if fits(rate, second, first):
        return second, first
    return None


def fits(rate: Decimal, base: Decimal, tax: Decimal) -> bool:
    return abs(base * rate / 100 - tax) <= _TOLERANCE
