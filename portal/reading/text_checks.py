"""The printed totals checked against each other before any is proposed.

The checks: each VAT line's tax is its base * its rate (±0.01); the VAT lines add up to the
VAT total and their bases to Total HT; Total HT + VAT = Total TTC to the cent; the amount due
is Total TTC (or HT + VAT), or less when the invoice says part is paid already ("acompte").
Each check is made when all its amounts are there. When one fails, no amount at all is
proposed. Otherwise an amount is "confirmed" when a check ties it to another; with
`confirmed_only`, the others (a lone "Total TTC", a net total alone) are left out.

A credit note's amounts are given positive, whatever sign it prints them with, as Factur-X
states them (the credit note flag says which way they go).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.reading.result import TaxLine
from portal.reading.text_totals import PrintedTotals, fits

ZERO = Decimal("0.00")


def checked_amounts(
    printed: PrintedTotals, *, credit_note: bool = False, confirmed_only: bool = False
) -> dict[str, Any] | None:
    """The Reading's amount fields (total_net, total_tax, total_gross, amount_due, taxes) when
    the printed totals hold together and some is left to propose, else None."""
    if printed.conflict:
        return None
    taxes, base_from_net = _tax_lines(printed.taxes, printed.net)
    if taxes is None:
        return None
    tax, tax_from_lines = printed.tax, False
    if tax is None and taxes:
        tax, tax_from_lines = sum((line.tax for line in taxes), ZERO), True
    if tax is None and printed.exempt:
        tax = ZERO
    gross = printed.gross
    if gross is None and printed.total is not None and printed.total != printed.net:
        gross = printed.total
    amounts: dict[str, Any] = {
        "total_net": printed.net,
        "total_tax": tax,
        "total_gross": gross,
        "amount_due": printed.due,
        "taxes": taxes,
    }
    confirmed = _confirmed(
        amounts,
        base_from_net=base_from_net,
        tax_from_lines=tax_from_lines,
        partly_paid=printed.partly_paid,
    )
    if confirmed is None:
        return None
    if confirmed_only:
        amounts = {
            name: value if name in confirmed else _NONE[name] for name, value in amounts.items()
        }
    if all(value is None or value == () for value in amounts.values()):
        return None
    signs = [value for name, value in amounts.items() if name != "taxes" and value is not None]
    if credit_note and all(value <= 0 for value in signs):
        return _positive(amounts)
    return amounts


_NONE: dict[str, Any] = {
    "total_net": None,
    "total_tax": None,
    "total_gross": None,
    "amount_due": None,
    "taxes": (),
}


def _tax_lines(
    taxes: list[tuple[Decimal, Decimal | None, Decimal]], net: Decimal | None
) -> tuple[tuple[TaxLine, ...] | None, bool]:
    """(TaxLines, whether the base was taken from Total HT): a missing base is Total HT's when
    there is one rate; no TaxLines (None) when a base stays unknown."""
    base_from_net = len(taxes) == 1 and taxes[0][1] is None and net is not None
    if base_from_net:
        taxes = [(taxes[0][0], net, taxes[0][2])]
    lines = []
    for rate, base, tax in taxes:
        if base is None:
            return None, False
        lines.append(TaxLine(rate, base, tax))
    return tuple(lines), base_from_net


def _confirmed(
    amounts: dict[str, Any], *, base_from_net: bool, tax_from_lines: bool, partly_paid: bool
) -> set[str] | None:
    """The names of the amounts a check ties to another; None when a check fails. A value
    made from another (a base taken from Total HT, the VAT total summed from its lines) is
    confirmed with it, never by it."""
    net, tax, gross = amounts["total_net"], amounts["total_tax"], amounts["total_gross"]
    due, taxes = amounts["amount_due"], amounts["taxes"]
    checks: list[tuple[bool, set[str]]] = []
    if taxes:
        lines_fit = all(fits(line.rate, line.base, line.tax) for line in taxes)
        fitted = {"taxes", "total_net"} if base_from_net else {"taxes"}
        checks.append((lines_fit, fitted | ({"total_tax"} if tax_from_lines else set())))
        if net is not None and not base_from_net:
            checks.append((sum(line.base for line in taxes) == net, {"taxes", "total_net"}))
        if tax is not None and not tax_from_lines:
            checks.append((sum(line.tax for line in taxes) == tax, {"taxes", "total_tax"}))
    if net is not None and tax is not None and gross is not None:
        checks.append((net + tax == gross, {"total_net", "total_tax", "total_gross"}))
    whole = gross if gross is not None else None if net is None or tax is None else net + tax
    if due is not None and whole is not None:
        due_fits = abs(due) <= abs(whole) if partly_paid else due == whole
        tied = {"total_gross"} if gross is not None else {"total_net", "total_tax"}
        checks.append((due_fits, {"amount_due", *tied}))
    confirmed: set[str] = set()
    for holds, names in checks:
        if not holds:
            return None
        confirmed |= names
    return confirmed


def _positive(amounts: dict[str, Any]) -> dict[str, Any]:
    positive = {
        name: None if value is None else -value
        for name, value in amounts.items()
        if name != "taxes"
    }
    positive["taxes"] = tuple(
        TaxLine(line.rate, -line.base, -line.tax) for line in amounts["taxes"]
    )
    return positive
