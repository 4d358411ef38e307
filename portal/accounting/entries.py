"""Entry lines and the `entries` JSON OneConnect expects ({"data": {"lines": [...]}})."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from portal.accounting.amounts import CENT

EUR = "EUR"


@dataclass(frozen=True)
class EntryLine:
    date: date
    journal: str
    account: str
    debit: Decimal
    credit: Decimal
    reference: str
    label: str = ""


def api_date(value: date) -> str:
    """ISO 8601 at midnight UTC, as in the API's examples: 2026-03-09T00:00:00.000Z."""
    return f"{value.isoformat()}T00:00:00.000Z"


def _json_amount(value: Decimal) -> float | int:
    # JSON numbers: a two-decimal Decimal below 10^13 converts to the float whose shortest
    # repr is exactly that decimal, so the text sent is the exact amount.
    quantized = value.quantize(CENT)
    return 0 if quantized == 0 else float(quantized)


def _side(amount: Decimal) -> dict[str, Any]:
    number = _json_amount(amount)
    return {"amount": number, "currency": EUR, "currencyAmount": number, "currencyRate": 1}


def line_payload(line: EntryLine) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "date": api_date(line.date),
        "debit": _side(line.debit),
        "credit": _side(line.credit),
        "journal": line.journal,
        "account": line.account,
        "reference": line.reference,
    }
    if line.label:
        payload["label"] = line.label
    return payload


def entries_payload(lines: list[EntryLine]) -> dict[str, Any] | None:
    """The `entries` part, or None when there are no lines (the part is then left out)."""
    if not lines:
        return None
    return {"data": {"lines": [line_payload(line) for line in lines]}}


def totals(lines: list[EntryLine]) -> tuple[Decimal, Decimal]:
    debit = sum((line.debit for line in lines), Decimal("0.00"))
    credit = sum((line.credit for line in lines), Decimal("0.00"))
    return debit, credit
