"""Entry lines as the editor holds them: texts by field name, never read from the request
(the views pass what was posted), and their running totals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from wtforms import Form, SubmitField

from portal.accounting.amounts import (
    AmountError,
    amount_style,
    format_amount,
    parse_amount,
    parse_rate,
    to_eur,
)
from portal.accounting.entries import EUR, EntryLine, Totals, effective_rate
from portal.deposits.fields import locale_style

if TYPE_CHECKING:
    from portal.deposits.subforms import EntryLineForm

MAX_LINES = 500
_LINE_KEY = re.compile(r"lines-(\d+)-")


def line_indices(keys: Iterable[str]) -> list[int]:
    """The line indices among posted field names, in order (gaps where lines were removed)."""
    return sorted({int(match.group(1)) for key in keys if (match := _LINE_KEY.match(key))})


LINE_FIELDS = (
    "date",
    "journal",
    "account",
    "debit",
    "credit",
    "reference",
    "label",
    "due_date",
    "journal_label",
    "third_party",
    "third_party_siren",
    "third_party_label",
    "document_reference",
    "currency",
    "currency_rate",
)


def blank_line_values() -> dict[str, str]:
    return {name: "" for name in LINE_FIELDS} | {"currency": EUR}


def raw_line_values(line: EntryLineForm) -> dict[str, str]:
    """A line's fields as the user typed them."""
    values = raw_values(line)
    return {name: values[name] for name in LINE_FIELDS}


def raw_values(form: Form) -> dict[str, str]:
    """Every field of `form` as typed (or as set), by short name; buttons left out."""
    values = {}
    for field in form:
        if isinstance(field, SubmitField):
            continue
        values[field.short_name] = field.raw_data[0] if field.raw_data else field._value()
    return values


def entry_line_values(line: EntryLine, style: str) -> dict[str, str]:
    """An EntryLine as the editor shows it, amounts in the user's habit (blank for 0)."""

    def amount(value: Decimal) -> str:
        return format_amount(value, style) if value else ""

    return {
        "date": line.date.isoformat(),
        "journal": line.journal,
        "account": line.account,
        "debit": amount(line.debit),
        "credit": amount(line.credit),
        "reference": line.reference,
        "label": line.label,
        "due_date": line.due_date.isoformat() if line.due_date else "",
        "journal_label": line.journal_label,
        "third_party": line.third_party,
        "third_party_siren": line.third_party_siren,
        "third_party_label": line.third_party_label,
        "document_reference": line.document_reference,
        "currency": line.currency,
        "currency_rate": "" if line.currency == EUR else str(line.currency_rate),
    }


@dataclass(frozen=True)
class EditorTotals:
    """Totals of the lines as they stand while typed; unreadable amounts are left out."""

    totals: Totals
    count: int
    unreadable: list[int]  # positions (from 1) of lines whose amounts cannot be read yet
    style: str

    def show(self, amount: Decimal) -> str:
        return format_amount(amount, self.style)


def editor_totals(lines: list[EntryLineForm]) -> EditorTotals:
    debit = credit = Decimal("0.00")
    unreadable: list[int] = []
    style = None
    for position, line in enumerate(lines, start=1):
        debit_text, credit_text = line.debit.data or "", line.credit.data or ""
        style = style or amount_style(debit_text) or amount_style(credit_text)
        try:
            amounts = (parse_amount(debit_text), parse_amount(credit_text))
            rate = effective_rate(line.line_currency, parse_rate(line.currency_rate.data))
        except AmountError:
            unreadable.append(position)
            continue
        debit += to_eur(amounts[0], rate)
        credit += to_eur(amounts[1], rate)
    return EditorTotals(Totals(debit, credit), len(lines), unreadable, style or locale_style())
