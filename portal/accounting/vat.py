"""Booking a French invoice in one step: net amount and VAT rate → balanced entry lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.accounting.amounts import CENT, MAX_AMOUNT
from portal.accounting.entries import EntryLine

PURCHASE = "purchase"
SALES = "sales"
# The French rates: standard, intermediate, reduced, special; 0 for exempt or reverse charge.
VAT_RATES = (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0"))


@dataclass(frozen=True)
class BookingAccounts:
    """Expense (purchase) or revenue (sale) account, VAT account, supplier or customer account."""

    main: str
    vat: str
    party: str


# Plan comptable général: 607 purchases of goods, 44566 deductible VAT, 401 suppliers;
# 411 customers, 706 services sold, 44571 collected VAT.
DEFAULT_ACCOUNTS = {
    PURCHASE: BookingAccounts(main="607", vat="44566", party="401"),
    SALES: BookingAccounts(main="706", vat="44571", party="411"),
}
DEFAULT_JOURNALS = {PURCHASE: "ACH", SALES: "VTE"}


class BookingError(ValueError):
    """The invoice cannot be booked as asked (unknown kind or rate, amount out of range)."""


def vat_amount(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on `net` at `rate` percent, to the cent, half up (as invoices print it)."""
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def book_invoice(
    kind: str,
    net: Decimal,
    rate: Decimal,
    *,
    entry_date: date,
    reference: str,
    accounts: BookingAccounts | None = None,
    journal: str | None = None,
    label: str = "",
) -> list[EntryLine]:
    """The balanced lines of a purchase (expense, deductible VAT / supplier) or a sale
    (customer / revenue, collected VAT). No VAT line at 0 %. Raises BookingError."""
    if kind not in DEFAULT_ACCOUNTS:
        raise BookingError(f"unknown invoice kind {kind!r}")
    if rate not in VAT_RATES:
        raise BookingError(f"{rate} is not a French VAT rate")
    if net <= 0 or net != net.quantize(CENT):
        raise BookingError("the net amount must be positive, in cents")
    tax = vat_amount(net, rate)
    gross = net + tax
    if gross > MAX_AMOUNT:
        raise BookingError("the amount is too large")
    accounts = accounts or DEFAULT_ACCOUNTS[kind]
    journal = journal or DEFAULT_JOURNALS[kind]
    zero = Decimal("0.00")

    def line(account: str, debit: Decimal, credit: Decimal) -> EntryLine:
        return EntryLine(
            date=entry_date,
            journal=journal,
            account=account,
            debit=debit,
            credit=credit,
            reference=reference,
            label=label,
        )

    if kind == PURCHASE:
        lines = [line(accounts.main, net, zero)]
        if tax:
            lines.append(line(accounts.vat, tax, zero))
        lines.append(line(accounts.party, zero, gross))
    else:
        lines = [line(accounts.party, gross, zero), line(accounts.main, zero, net)]
        if tax:
            lines.append(line(accounts.vat, zero, tax))
    return lines
