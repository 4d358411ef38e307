"""The staff review: its list (portal.review.listing), its CSV export and the dashboard's
counts. Read-only: nothing here commits."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import format_datetime
from sqlalchemy import ColumnElement, Select, case, func, select

from portal.accounting.amounts import CENT
from portal.accounting.entries import payload_totals
from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models import Deposit, DepositStatus, InvoiceKind, Organization
from portal.review.listing import SORTS, Filters, Page, day_start, filtered, review_page

__all__ = ["SORTS", "Filters", "Page", "csv_lines", "review_page"]


# The export's columns: a stable code (the English file's header, as scripts read it) and
# the caption a French spreadsheet shows instead.
CSV_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", _l("Deposit no.")),
    ("organization", _l("Organization")),
    ("deposited_at", _l("Deposit date")),
    ("invoice_type", _l("Invoice type")),
    ("status", _l("Status")),
    ("file_name", _l("File name")),
    ("external_reference", _l("External reference")),
    ("document_id", _l("Document ID")),
    ("counterparty", _l("Counterparty")),
    ("counterparty_siren", _l("Counterparty SIREN")),
    ("user_email", _l("User email")),
    ("rejection_reason", _l("Reason for refusal")),
    ("entry_date", _l("Entry date")),
    ("total_debit", _l("Total debit (EUR)")),
    ("total_credit", _l("Total credit (EUR)")),
)
CSV_HEADER = tuple(code for code, _caption in CSV_COLUMNS)
BOM = "\ufeff"
FRENCH_MOMENT = "dd/MM/yyyy HH:mm"


def neutralise(cell: object) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    text = "" if cell is None else str(cell)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


class _Figure(str):
    """A cell the export wrote itself (a number, a date): never a formula, so never quoted.
    A negative amount must stay a number in the spreadsheet, not become text."""


@dataclass(frozen=True)
class CsvStyle:
    """How the export is written for the reader: a French Excel opens `;`-separated UTF-8
    with a BOM, decimal commas and dd/mm/yyyy dates; the English file keeps the plain format
    (commas, ISO 8601 times in UTC, codes for statuses and types)."""

    french: bool

    @property
    def delimiter(self) -> str:
        return ";" if self.french else ","

    def header(self) -> list[str]:
        if self.french:
            return [str(caption) for _code, caption in CSV_COLUMNS]
        return list(CSV_HEADER)

    def moment(self, value: datetime | None) -> _Figure:
        if value is None:
            return _Figure("")
        if not self.french:
            return _Figure(value.isoformat())
        return _Figure(format_datetime(value, FRENCH_MOMENT))  # in Europe/Paris time

    def day(self, value: date | None) -> _Figure:
        if value is None:
            return _Figure("")
        return _Figure(value.strftime("%d/%m/%Y") if self.french else value.isoformat())

    def amount(self, value: Decimal | None) -> _Figure:
        if value is None:
            return _Figure("")
        # No grouping: a spreadsheet reads "1234,56" as a number, not "1 234,56".
        text = f"{value.quantize(CENT):.2f}"
        return _Figure(text.replace(".", ",") if self.french else text)

    def status(self, status: DepositStatus) -> str:
        return status.label if self.french else status.value

    def kind(self, kind: InvoiceKind) -> str:
        return kind.label if self.french else kind.value


def csv_style(locale: str) -> CsvStyle:
    return CsvStyle(french=locale == "fr")


def _entry_date(entries: dict[str, Any] | None) -> date | None:
    """The earliest date of the entry lines (the lines of one invoice usually share it)."""
    days = []
    for line in ((entries or {}).get("data") or {}).get("lines") or []:
        try:
            # "2026-03-09T00:00:00.000Z" as sent, or a plain "2026-03-09"
            days.append(date.fromisoformat(str(line.get("date"))[:10]))
        except (TypeError, ValueError):
            continue
    return min(days, default=None)


def csv_lines(
    visible: Select[tuple[Deposit]], filters: Filters, style: CsvStyle | None = None
) -> Iterator[str]:
    """The filtered list as CSV text, produced row by row so any size streams in little memory.

    `style` says the reader's habits (see CsvStyle); the English format when not given."""
    style = style or CsvStyle(french=False)
    sort = SORTS[filters.sort]
    order = (
        (sort.column.desc(), Deposit.id.desc())
        if sort.descending
        else (sort.column.asc(), Deposit.id.asc())
    )
    query = (
        filtered(visible, filters)
        .add_columns(Organization.name)
        .join(Organization, Organization.id == Deposit.organization_id)
        .order_by(*order)
        .execution_options(yield_per=500)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter)

    def line(cells: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell if isinstance(cell, _Figure) else neutralise(cell) for cell in cells])
        return buffer.getvalue()

    header = line(style.header())
    # The BOM tells Excel the file is UTF-8 (without it, accents come out garbled).
    yield BOM + header if style.french else header
    for deposit, organization_name in db.session.execute(query):
        counterparty = deposit.counterparty or {}
        lines = ((deposit.entries or {}).get("data") or {}).get("lines")
        totals = payload_totals(deposit.entries) if lines else None
        yield line(
            [
                _Figure(deposit.id),
                organization_name,
                style.moment(deposit.created_at),
                style.kind(deposit.kind),
                style.status(deposit.status),
                deposit.file_name,
                deposit.external_reference,
                deposit.document_id,
                counterparty.get("name"),
                counterparty.get("siren"),
                deposit.user_email,
                deposit.rejection_reason,
                style.day(_entry_date(deposit.entries)),
                style.amount(totals.debit if totals else None),
                style.amount(totals.credit if totals else None),
            ]
        )


@dataclass(frozen=True)
class OrganizationCounts:
    organization: Organization
    counts: dict[DepositStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def counts_by_organization(
    organizations: Select[tuple[Organization]], visible: Select[tuple[Deposit]]
) -> list[OrganizationCounts]:
    """For each visible organization, how many of its deposits are in each status."""
    scoped = visible.subquery()
    totals = db.session.execute(
        select(scoped.c.organization_id, scoped.c.status, func.count()).group_by(
            scoped.c.organization_id, scoped.c.status
        )
    ).all()
    by_organization: dict[int, dict[DepositStatus, int]] = {}
    for organization_id, status, count in totals:
        by_organization.setdefault(organization_id, {})[DepositStatus(status)] = count
    return [
        OrganizationCounts(organization, by_organization.get(organization.id, {}))
        for organization in db.session.scalars(organizations.order_by(Organization.name))
    ]


@dataclass(frozen=True)
class Week:
    start: date
    counts: dict[DepositStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def weekly_counts(visible: Select[tuple[Deposit]], *, weeks: int, today: date) -> list[Week]:
    """Deposits per ISO week (Monday, UTC) and status, for the last `weeks` weeks, oldest first."""
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]
    scoped = visible.where(Deposit.created_at >= day_start(starts[0])).subquery()
    # A portable bucket (no date_trunc on SQLite): the newest week whose start is not later.
    week_column: ColumnElement[int] = case(
        *[
            (scoped.c.created_at >= day_start(start), index)
            for index, start in reversed(list(enumerate(starts)))
        ],
        else_=-1,
    ).label("week")
    rows = db.session.execute(
        select(week_column, scoped.c.status, func.count()).group_by(week_column, scoped.c.status)
    ).all()
    counts: list[dict[DepositStatus, int]] = [{} for _ in starts]
    for index, status, count in rows:
        if 0 <= index < weeks:
            counts[index][DepositStatus(status)] = count
    return [Week(start, counts[n]) for n, start in enumerate(starts)]
