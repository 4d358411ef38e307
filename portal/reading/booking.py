"""An invoice read from its data, booked as balanced entry lines: for a purchase, the expense
and the deductible VAT of each rate against the supplier; for a sale, the customer against the
revenue and the collected VAT of each rate. A credit note books the same lines the other way.

Nothing is booked from totals that do not add up: the user then types the lines."""

from __future__ import annotations

from decimal import Decimal

from portal.accounting.entries import EUR, EntryLine
from portal.accounting.vat import DEFAULT_ACCOUNTS, DEFAULT_JOURNALS, PURCHASE, BookingAccounts
from portal.reading.result import Party, Reading, TaxLine

ZERO = Decimal("0.00")


class NotBookable(ValueError):
    """The invoice's figures cannot make balanced lines; `code` says why: no_total, no_date,
    totals_differ (net + VAT is not the total), breakdown_differs (the VAT lines do not sum to
    the totals)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def counterparty_of(reading: Reading, kind: str) -> Party:
    """Who the invoice is with: its seller for a purchase, its buyer for a sale."""
    return reading.seller if kind == PURCHASE else reading.buyer


def tax_lines(reading: Reading) -> tuple[TaxLine, ...]:
    """The VAT breakdown, checked against the totals; one line from the totals when the
    invoice gives no breakdown (the MINIMUM profile)."""
    gross, net, tax = reading.total_gross, reading.total_net, reading.total_tax
    if gross is None:
        raise NotBookable("no_total")
    if net is not None and tax is not None and net + tax != gross:
        raise NotBookable("totals_differ")
    taxes = reading.taxes
    if not taxes:
        if net is None and tax is None:
            return (TaxLine(rate=Decimal("0"), base=gross, tax=ZERO),)
        net = net if net is not None else gross - (tax or ZERO)
        return (TaxLine(rate=Decimal("0"), base=net, tax=gross - net),)
    if sum(line.base + line.tax for line in taxes) != gross:
        raise NotBookable("breakdown_differs")
    return taxes


def invoice_lines(
    reading: Reading,
    kind: str,
    *,
    accounts: BookingAccounts | None = None,
    journal: str | None = None,
) -> list[EntryLine]:
    """The balanced lines of the invoice, in its currency. Raises NotBookable."""
    if reading.issue_date is None:
        raise NotBookable("no_date")
    taxes = tax_lines(reading)
    accounts = accounts or DEFAULT_ACCOUNTS[kind]
    party = counterparty_of(reading, kind)
    currency = (reading.currency or EUR).upper()
    # Debit-side for a purchase invoice; a sale, or a credit note, turns every line around.
    charges = (kind == PURCHASE) != reading.credit_note

    def line(account: str, amount: Decimal, *, debit: bool, **extra: object) -> EntryLine:
        return EntryLine(
            date=reading.issue_date,  # type: ignore[arg-type]
            journal=journal or DEFAULT_JOURNALS[kind],
            account=account,
            debit=amount if debit else ZERO,
            credit=ZERO if debit else amount,
            reference=(reading.number or "")[:100],
            label=(party.name or "")[:200],
            currency=currency,
            currency_rate=reading.exchange_rate or Decimal("1"),
            **extra,  # type: ignore[arg-type]
        )

    main = [line(accounts.main, tax.base, debit=charges) for tax in taxes if tax.base]
    vat = [line(accounts.vat, tax.tax, debit=charges) for tax in taxes if tax.tax]
    total = sum((tax.base + tax.tax for tax in taxes), ZERO)
    counter = line(
        accounts.party,
        total,
        debit=not charges,
        due_date=reading.due_date,
        third_party_siren=party.siren or "",
        third_party_label=(party.name or "")[:200],
    )
    return [counter, *main, *vat] if not charges else [*main, *vat, counter]
