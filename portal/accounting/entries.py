"""Entry lines and the `entries` JSON OneConnect expects ({"data": {"lines": [...]}})."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from portal.accounting.amounts import CENT, MAX_AMOUNT, to_eur

EUR = "EUR"
ONE = Decimal(1)
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class EntryLine:
    """One line; `debit` and `credit` are in `currency`, worth `currency_rate` euros a unit."""

    date: date
    journal: str
    account: str
    debit: Decimal
    credit: Decimal
    reference: str
    label: str = ""
    due_date: date | None = None
    journal_label: str = ""
    third_party: str = ""
    third_party_siren: str = ""
    third_party_label: str = ""
    document_reference: str = ""
    currency: str = EUR
    currency_rate: Decimal = ONE

    @property
    def eur_debit(self) -> Decimal:
        return to_eur(self.debit, self.currency_rate)

    @property
    def eur_credit(self) -> Decimal:
        return to_eur(self.credit, self.currency_rate)


class LineProblem(Enum):
    """What makes a line unusable beyond its single fields (the form words each one)."""

    BOTH_SIDES = "both_sides"
    NO_SIDE = "no_side"
    EUR_RATE_NOT_ONE = "eur_rate_not_one"
    RATE_MISSING = "rate_missing"
    CONVERTED_TOO_LARGE = "converted_too_large"


def line_problems(
    debit: Decimal, credit: Decimal, currency: str, rate: Decimal | None
) -> list[LineProblem]:
    """The rules binding a line's amounts together: one side only, and a coherent rate."""
    problems: list[LineProblem] = []
    sides = [amount for amount in (debit, credit) if amount != 0]
    if len(sides) > 1:
        problems.append(LineProblem.BOTH_SIDES)
    elif not sides:
        problems.append(LineProblem.NO_SIDE)
    if currency == EUR:
        if rate is not None and rate != ONE:
            problems.append(LineProblem.EUR_RATE_NOT_ONE)
    elif rate is None:
        problems.append(LineProblem.RATE_MISSING)
    elif any(to_eur(amount, rate) > MAX_AMOUNT for amount in sides):
        problems.append(LineProblem.CONVERTED_TOO_LARGE)
    return problems


def effective_rate(currency: str, rate: Decimal | None) -> Decimal:
    """EUR lines always have rate 1; other currencies their own (1 until one is given)."""
    return ONE if currency == EUR or rate is None else rate


def api_date(value: date) -> str:
    """ISO 8601 at midnight UTC, as in the API's examples: 2026-03-09T00:00:00.000Z."""
    return f"{value.isoformat()}T00:00:00.000Z"


def _json_amount(value: Decimal) -> float | int:
    # JSON numbers: a two-decimal Decimal below 10^13 converts to the float whose shortest
    # repr is exactly that decimal, so the text sent is the exact amount.
    quantized = value.quantize(CENT)
    return 0 if quantized == 0 else float(quantized)


def _json_rate(rate: Decimal) -> float | int:
    # At most six decimals below 10^6 (amounts.parse_rate): twelve digits, exact as a float.
    return int(rate) if rate == rate.to_integral_value() else float(rate)


def _side(line: EntryLine, amount: Decimal) -> dict[str, Any]:
    return {
        "amount": _json_amount(to_eur(amount, line.currency_rate)),
        "currency": line.currency,
        "currencyAmount": _json_amount(amount),
        "currencyRate": _json_rate(line.currency_rate),
    }


# Optional members, sent only when filled (the API reads an absent one as an empty string).
_OPTIONAL_TEXT = (
    ("journalLabel", "journal_label"),
    ("thirdParty", "third_party"),
    ("thirdPartySiren", "third_party_siren"),
    ("thirdPartyLabel", "third_party_label"),
    ("label", "label"),
    ("documentReference", "document_reference"),
)


def line_payload(line: EntryLine) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "date": api_date(line.date),
        "debit": _side(line, line.debit),
        "credit": _side(line, line.credit),
        "journal": line.journal,
        "account": line.account,
        "reference": line.reference,
    }
    if line.due_date is not None:
        payload["dueDate"] = api_date(line.due_date)
    for member, attribute in _OPTIONAL_TEXT:
        value = getattr(line, attribute)
        if value:
            payload[member] = value
    return payload


def entries_payload(lines: list[EntryLine]) -> dict[str, Any] | None:
    """The `entries` part, or None when there are no lines (the part is then left out)."""
    if not lines:
        return None
    return {"data": {"lines": [line_payload(line) for line in lines]}}


def entries_json(payload: dict[str, Any]) -> str:
    """The part's text, serialized as the OneConnect client sends it (compact, UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def entries_size(payload: dict[str, Any] | None) -> int:
    """Bytes of the `entries` part once serialized (0 when there is none)."""
    return 0 if payload is None else len(entries_json(payload).encode("utf-8"))


@dataclass(frozen=True)
class Totals:
    """Debit and credit totals in euros."""

    debit: Decimal
    credit: Decimal

    @property
    def difference(self) -> Decimal:
        return self.debit - self.credit

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def balance(lines: list[EntryLine]) -> Totals:
    debit = sum((line.eur_debit for line in lines), Decimal("0.00"))
    credit = sum((line.eur_credit for line in lines), Decimal("0.00"))
    return Totals(debit, credit)


def payload_totals(entries: dict[str, Any] | None) -> Totals:
    """Totals of an `entries` JSON as sent: its euro amounts, read back exactly."""
    lines = ((entries or {}).get("data") or {}).get("lines") or []
    debit = sum((_sent_amount(line, "debit") for line in lines), Decimal("0.00"))
    credit = sum((_sent_amount(line, "credit") for line in lines), Decimal("0.00"))
    return Totals(debit, credit)


def _sent_amount(line: dict[str, Any], side: str) -> Decimal:
    value = (line.get(side) or {}).get("amount") or 0
    # repr of the float is the shortest text that reads back as it: the amount that was sent.
    return Decimal(repr(value)).quantize(CENT)


def payload_lines(entries: dict[str, Any] | None) -> list[EntryLine]:
    """The lines of an `entries` JSON as sent, read back (to correct and send it again)."""
    lines = ((entries or {}).get("data") or {}).get("lines") or []
    return [_line_of(line) for line in lines if isinstance(line, dict)]


def _line_of(payload: dict[str, Any]) -> EntryLine:
    debit = payload.get("debit") or {}
    credit = payload.get("credit") or {}
    currency = debit.get("currency") or credit.get("currency") or EUR
    rate = debit.get("currencyRate") or credit.get("currencyRate") or 1
    optional = {attribute: str(payload.get(member) or "") for member, attribute in _OPTIONAL_TEXT}
    return EntryLine(
        date=_payload_date(payload.get("date")) or date.today(),
        journal=str(payload.get("journal") or ""),
        account=str(payload.get("account") or ""),
        debit=_exact(debit.get("currencyAmount", debit.get("amount"))),
        credit=_exact(credit.get("currencyAmount", credit.get("amount"))),
        reference=str(payload.get("reference") or ""),
        due_date=_payload_date(payload.get("dueDate")),
        currency=str(currency),
        currency_rate=Decimal(repr(rate)) if not isinstance(rate, Decimal) else rate,
        **optional,
    )


def _payload_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _exact(value: Any) -> Decimal:
    return Decimal(repr(value or 0)).quantize(CENT)
