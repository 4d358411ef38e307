"""The staff review list: filters, sorts and keyset pages over the deposits of the organizations
a reviewer sees, reading only the columns a row shows.

A staff member may follow hundreds of organizations. Asking for `organization_id IN (…) ORDER BY
created_at` makes the database read every row of every one of them and sort; instead each
organization gives its first rows in the chosen order from its own index (a LATERAL join on
PostgreSQL, one UNION ALL arm each on SQLite) and only those few are merged. When the reviewer
sees most organizations, or searches text, walking the whole table's index in that order and
skipping other organizations' rows reads fewer rows still; the database plans the search.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, select, true, tuple_, union_all
from sqlalchemy.orm import InstrumentedAttribute

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models import Deposit, DepositStatus, InvoiceKind, Organization
from portal.models.search import typed_words

# Past this share of all organizations, the whole table's order is the shorter walk.
MOST_ORGANIZATIONS = 0.5


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


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """What `filters` ask of a deposit (dates are whole UTC days, both ends included), its
    organization aside."""
    found: list[ColumnElement[bool]] = []
    if filters.status is not None:
        found.append(Deposit.status == filters.status)
    if filters.kind is not None:
        found.append(Deposit.kind == filters.kind)
    if filters.date_from is not None:
        found.append(Deposit.created_at >= day_start(filters.date_from))
    if filters.date_to is not None:
        found.append(Deposit.created_at < day_start(filters.date_to + timedelta(days=1)))
    for word in typed_words(filters.text or ""):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found.append(Deposit.search_text.like(f"%{escaped}%", escape="\\"))
    return found


def filtered(visible: Select[tuple[Deposit]], filters: Filters) -> Select[tuple[Deposit]]:
    """`visible` narrowed by `filters` (the export's query)."""
    query = visible.where(*conditions(filters))
    if filters.organization_id is not None:
        query = query.where(Deposit.organization_id == filters.organization_id)
    return query


# What a row of the list shows (templates/review/index.html), and nothing else.
ROW_COLUMNS = (
    Deposit.id,
    Deposit.organization_id,
    Deposit.file_name,
    Deposit.active_content,
    Deposit.external_reference,
    Deposit.counterparty_name,
    Deposit.kind,
    Deposit.status,
    Deposit.created_at,
)


@dataclass(frozen=True)
class Page:
    deposits: Sequence[Row[Any]]
    next_cursor: str | None
    previous_cursor: str | None = None  # for the page before this one, when there is one


def encode_cursor(deposit: Row[Any], sort: Sort) -> str:
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


@dataclass(frozen=True)
class Walk:
    """One direction through the list: the rows after `cursor` in the `descending` order."""

    sort: Sort
    descending: bool
    cursor: tuple[Any, int] | None
    limit: int

    def order(self, column: Any, ident: Any) -> tuple[Any, Any]:
        if self.descending:
            return column.desc(), ident.desc()
        return column.asc(), ident.asc()

    def past_cursor(self, column: Any, ident: Any) -> list[ColumnElement[bool]]:
        if self.cursor is None:
            return []
        key, bound = tuple_(column, ident), tuple_(*self.cursor)
        return [key < bound if self.descending else key > bound]


def review_page(
    organization_ids: Sequence[int] | None,
    filters: Filters,
    *,
    after: str | None,
    size: int,
    before: str | None = None,
    all_organizations: int | None = None,
) -> Page:
    """One page of the filtered list in the chosen order, just after `after` or just before
    `before` (the previous page), among the deposits of `organization_ids` (None: every one).

    `all_organizations` (how many exist) tells whether these are most of them. Keyset
    pagination with the row-value comparison (pitfall 13): no OFFSET scan however deep. One
    query, whatever the page holds."""
    sort = SORTS[filters.sort]
    backwards = decode_cursor(before, sort) is not None
    cursor = decode_cursor(before, sort) if backwards else decode_cursor(after, sort)
    # Walking backwards is walking the other order, then showing the rows the right way round.
    walk = Walk(sort, sort.descending != backwards, cursor, size + 1)
    ids = _narrowed(organization_ids, filters.organization_id)
    if ids is not None and not ids:
        rows: Sequence[Row[Any]] = []
    elif ids is None or filters.text or _most(ids, all_organizations):
        rows = db.session.execute(_whole_table(ids, filters, walk)).all()
    else:
        rows = db.session.execute(_each_organization(ids, filters, walk)).all()
    return _page(list(rows), sort, size, cursor is not None, backwards)


def _narrowed(ids: Sequence[int] | None, chosen: int | None) -> list[int] | None:
    if chosen is None:
        return None if ids is None else list(ids)
    return [chosen] if ids is None or chosen in ids else []


def _most(ids: Sequence[int], all_organizations: int | None) -> bool:
    return all_organizations is not None and len(ids) > MOST_ORGANIZATIONS * all_organizations


def _whole_table(ids: list[int] | None, filters: Filters, walk: Walk) -> Select[Any]:
    query = select(*ROW_COLUMNS).where(*conditions(filters))
    if ids is not None:
        query = query.where(Deposit.organization_id.in_(ids))
    column = walk.sort.column
    return (
        query.where(*walk.past_cursor(column, Deposit.id))
        .order_by(*walk.order(column, Deposit.id))
        .limit(walk.limit)
    )


def _each_organization(ids: list[int], filters: Filters, walk: Walk) -> Select[Any]:
    """The first rows of each organization from its own index, merged: only the keys are read
    there, then the page's rows are fetched by id."""
    column = walk.sort.column

    def first_keys(organization: Any) -> Select[Any]:
        return (
            select(Deposit.id.label("id"), column.label("key"))
            .where(Deposit.organization_id == organization, *conditions(filters))
            .where(*walk.past_cursor(column, Deposit.id))
            .order_by(*walk.order(column, Deposit.id))
            .limit(walk.limit)
        )

    if db.session.get_bind().dialect.name == "postgresql":
        chosen = select(Organization.id).where(Organization.id.in_(ids)).subquery()
        firsts = first_keys(chosen.c.id).lateral()
        candidates = select(firsts.c.id, firsts.c.key).select_from(chosen).join(firsts, true())
    else:
        arms = [select(first_keys(ident).subquery()) for ident in ids]
        candidates = union_all(*arms) if len(arms) > 1 else arms[0]
    merged = candidates.subquery()
    keys = (
        select(merged.c.id)
        .order_by(*walk.order(merged.c.key, merged.c.id))
        .limit(walk.limit)
        .subquery()
    )
    return (
        select(*ROW_COLUMNS)
        .join(keys, keys.c.id == Deposit.id)
        .order_by(*walk.order(column, Deposit.id))
    )


def _page(rows: list[Row[Any]], sort: Sort, size: int, moved: bool, backwards: bool) -> Page:
    deposits = rows[:size]
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
        previous_cursor=encode_cursor(deposits[0], sort) if moved and deposits else None,
    )
