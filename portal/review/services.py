"""The staff review list: filters, sorts and keyset pages over visible deposits, its CSV export,
and the dashboard's counts. Read-only: nothing here commits."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, func, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from portal.accounting.amounts import CENT
from portal.accounting.entries import payload_totals
from portal.extensions import db
from portal.models import Deposit, DepositStatus, InvoiceKind, Organization


@dataclass(frozen=True)
class Sort:
    label: Any
    column: InstrumentedAttribute[Any]
    descending: bool


SORTS: dict[str, Sort] = {
    "newest": Sort(_l("Newest first"), Deposit.created_at, True),
    "oldest": Sort(_l("Oldest first"), Deposit.created_at, False),
    "file_name": Sort(_l("File name"), Deposit.file_name, False),
    "reference": Sort(_l("External reference"), Deposit.external_reference, False),
}


@dataclass(frozen=True)
class Filters:
    organization_id: int | None = None
    status: DepositStatus | None = None
    kind: InvoiceKind | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    sort: str = "newest"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(visible: Select[tuple[Deposit]], filters: Filters) -> Select[tuple[Deposit]]:
    """`visible` narrowed by `filters` (dates are whole UTC days, both ends included)."""
    query = visible
    if filters.organization_id is not None:
        query = query.where(Deposit.organization_id == filters.organization_id)
    if filters.status is not None:
        query = query.where(Deposit.status == filters.status)
    if filters.kind is not None:
        query = query.where(Deposit.kind == filters.kind)
    if filters.date_from is not None:
        query = query.where(Deposit.created_at >= _day_start(filters.date_from))
    if filters.date_to is not None:
        query = query.where(Deposit.created_at < _day_start(filters.date_to + timedelta(days=1)))
    if filters.text:
        pattern = _like_pattern(filters.text)
        query = query.where(
            or_(
                Deposit.external_reference.ilike(pattern, escape="\\"),
                Deposit.file_name.ilike(pattern, escape="\\"),
                # The counterparty is the API's `organization` part, kept as JSON.
                Deposit.counterparty["name"].as_string().ilike(pattern, escape="\\"),
            )
        )
    return query


@dataclass(frozen=True)
class Page:
    deposits: list[Deposit]
    next_cursor: str | None
    previous_cursor: str | None = None  # for the page before this one, when there is one


def encode_cursor(deposit: Deposit, sort: Sort) -> str:
    value = getattr(deposit, sort.column.key)
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, deposit.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str | None, sort: Sort) -> tuple[Any, int] | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        value, ident = json.loads(raw)
        if not isinstance(value, str) or not isinstance(ident, int):
            return None
        if sort.column.key == "created_at":
            moment = datetime.fromisoformat(value)
            return (moment, ident) if moment.tzinfo is not None else None
        return value, ident
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def review_page(
    visible: Select[tuple[Deposit]],
    filters: Filters,
    *,
    after: str | None,
    size: int,
    before: str | None = None,
) -> Page:
    """One page of the filtered list in the chosen order, just after `after` or just before
    `before` (the previous page).

    Keyset pagination with the row-value comparison (pitfall 13): no OFFSET scan however deep.
    """
    sort = SORTS[filters.sort]
    query = filtered(visible, filters)
    key = tuple_(sort.column, Deposit.id)
    backwards = decode_cursor(before, sort) is not None
    cursor = decode_cursor(before, sort) if backwards else decode_cursor(after, sort)
    # Walking backwards is walking the other order, then showing the rows the right way round.
    descending = sort.descending != backwards
    if cursor is not None:
        bound = tuple_(*cursor)
        query = query.where(key < bound if descending else key > bound)
    order = (
        (sort.column.desc(), Deposit.id.desc())
        if descending
        else (sort.column.asc(), Deposit.id.asc())
    )
    rows = db.session.scalars(query.order_by(*order).limit(size + 1)).all()
    deposits = list(rows[:size])
    more = len(rows) > size and bool(deposits)
    if backwards:
        deposits.reverse()
        return Page(
            deposits,
            next_cursor=encode_cursor(deposits[-1], sort) if deposits else None,
            previous_cursor=encode_cursor(deposits[0], sort) if more else None,
        )
    return Page(
        deposits,
        next_cursor=encode_cursor(deposits[-1], sort) if more else None,
        previous_cursor=encode_cursor(deposits[0], sort)
        if cursor is not None and deposits
        else None,
    )


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
    scoped = visible.where(Deposit.created_at >= _day_start(starts[0])).subquery()
    # A portable bucket (no date_trunc on SQLite): the newest week whose start is not later.
    week_column: ColumnElement[int] = case(
        *[
            (scoped.c.created_at >= _day_start(start), index)
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
