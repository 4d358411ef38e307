"""The import history: newest first, keyset-paginated (no OFFSET scans), filtered by status."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import load_only

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models import Deposit, DepositStatus
from portal.models.search import typed_words

MAX_SEARCH = 100
# What a history row shows and polls by (templates/deposits/_deposit_row.html, poll_seconds):
# the entries, counterparty and reading JSON stay in the database, never decoded for a list.
ROW_COLUMNS = (
    Deposit.id,
    Deposit.organization_id,
    Deposit.kind,
    Deposit.file_name,
    Deposit.external_reference,
    Deposit.document_id,
    Deposit.counterparty_name,
    Deposit.total_debit,
    Deposit.invoice_date,
    Deposit.status,
    Deposit.created_at,
    Deposit.sent_at,
    Deposit.next_attempt_at,
)

# The captions of a row's cells on a phone (data-label), translated once for a whole page.
ROW_CAPTIONS = {
    "reference": _l("External reference"),
    "document": _l("Document ID"),
    "none_yet": _l("none yet"),
    "counterparty": _l("Counterparty"),
    "amount": _l("Amount"),
    "invoice_date": _l("Invoice date"),
    "status": _l("Status"),
    "type": _l("Type"),
    "deposited": _l("Deposited"),
}


def history_captions() -> dict[str, str]:
    return {name: str(caption) for name, caption in ROW_CAPTIONS.items()}


def matching(query: Select[tuple[Deposit]], typed: str) -> Select[tuple[Deposit]]:
    """Deposits whose file name, references or counterparty hold every word typed, as
    substrings of the folded search text (the same rows on SQLite and PostgreSQL)."""
    for word in typed_words(typed):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Deposit.search_text.like(f"%{escaped}%", escape="\\"))
    return query


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, ident = raw.partition("|")
            created_at = datetime.fromisoformat(moment)
            if created_at.tzinfo is None:
                return None
            return cls(created_at, int(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Page:
    deposits: list[Deposit]
    older: Cursor | None  # cursor for the next (older) page, if any
    newer: Cursor | None  # cursor for the previous (newer) page, if any


def history_page(
    visible: Select[tuple[Deposit]],
    *,
    status: DepositStatus | None,
    search: str = "",
    before: Cursor | None,
    after: Cursor | None,
    size: int,
) -> Page:
    """One page of `visible` deposits; `before`/`after` move to older/newer pages."""
    query = visible.options(load_only(*ROW_COLUMNS))
    if status is not None:
        query = query.where(Deposit.status == status)
    if search:
        query = matching(query, search[:MAX_SEARCH])
    key = tuple_(Deposit.created_at, Deposit.id)
    if after is not None:
        # Newer page: walk upwards from the cursor, then show newest first.
        rows = db.session.scalars(
            query.where(key > tuple_(after.created_at, after.id))
            .order_by(Deposit.created_at.asc(), Deposit.id.asc())
            .limit(size + 1)
        ).all()
        has_more_newer = len(rows) > size
        deposits = list(reversed(rows[:size]))
        return Page(
            deposits=deposits,
            older=_cursor(deposits[-1]) if deposits else None,
            newer=_cursor(deposits[0]) if has_more_newer and deposits else None,
        )
    if before is not None:
        query = query.where(key < tuple_(before.created_at, before.id))
    rows = db.session.scalars(
        query.order_by(Deposit.created_at.desc(), Deposit.id.desc()).limit(size + 1)
    ).all()
    deposits = list(rows[:size])
    return Page(
        deposits=deposits,
        older=_cursor(deposits[-1]) if len(rows) > size else None,
        newer=_cursor(deposits[0]) if before is not None and deposits else None,
    )


def _cursor(deposit: Deposit) -> Cursor:
    return Cursor(deposit.created_at, deposit.id)
