"""Invoices deposited by members, and the story of each one."""

from __future__ import annotations

import enum
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models.organizations import Organization
from portal.models.search import search_text
from portal.models.types import UTCDateTime, ValueEnum, utcnow
from portal.models.users import User
from portal.notices import Notice, NoticeText


class InvoiceKind(enum.Enum):
    PURCHASE = "purchase"
    SALES = "sales"

    @property
    def label(self) -> str:
        return str({"purchase": _l("Purchase"), "sales": _l("Sales")}[self.value])

    @property
    def invoice_label(self) -> str:
        return str({"purchase": _l("Purchase invoice"), "sales": _l("Sales invoice")}[self.value])


class DepositStatus(enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    FAILED = "failed"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self.value])

    @property
    def is_final(self) -> bool:
        """No later change is expected without someone acting (a webhook or a retry)."""
        return self not in (DepositStatus.QUEUED, DepositStatus.SENT)


_STATUS_LABELS = {
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "refused": _l("Refused"),
    "failed": _l("Failed"),
    "duplicate": _l("Duplicate"),
}


class Deposit(db.Model):
    __tablename__ = "deposits"
    __table_args__ = (
        # One reference per integration upstream; one integration per organization here.
        UniqueConstraint("organization_id", "external_reference"),
        # The history: newest first, keyset-paginated, optionally filtered by status.
        Index("ix_deposits_history", "organization_id", "created_at", "id"),
        Index("ix_deposits_history_status", "organization_id", "status", "created_at", "id"),
        # The staff review walks each organization in the chosen order (a few rows each), or
        # every visible row in that order when a staff member sees most organizations.
        Index("ix_deposits_org_file_name", "organization_id", "file_name", "id"),
        Index("ix_deposits_org_reference", "organization_id", "external_reference", "id"),
        Index("ix_deposits_created", "created_at", "id"),
        Index("ix_deposits_file_name", "file_name", "id"),
        Index("ix_deposits_reference", "external_reference", "id"),
        # The sender's queue: queued deposits whose next attempt is due.
        Index("ix_deposits_queue", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[InvoiceKind] = mapped_column(ValueEnum(InvoiceKind))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    # A PDF carrying JavaScript or launch actions: accepted, flagged, never rendered inline.
    active_content: Mapped[bool] = mapped_column(default=False)
    user_email: Mapped[str | None] = mapped_column(String(254))
    comment: Mapped[str | None] = mapped_column(Text)
    external_reference: Mapped[str] = mapped_column(String(64))
    external_reference_generated: Mapped[bool] = mapped_column(default=False)
    entries: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counterparty: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Read from `counterparty` and `entries` when the deposit is made, for the history to show
    # and search without decoding JSON.
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    # What the history's and the review's search look in, folded (see portal.search): set on
    # every insert and update, so both databases compare the same text the same way.
    search_text: Mapped[str | None] = mapped_column(Text)
    total_debit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    # The refused deposit this one corrects (sent again with its file and a new reference).
    # What was read from the invoice and proposed to the user (see Draft.reading): staff see
    # which values came from the invoice and which the user changed.
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    correction_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("deposits.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[DepositStatus] = mapped_column(
        ValueEnum(DepositStatus), default=DepositStatus.QUEUED
    )
    document_id: Mapped[str | None] = mapped_column(String(255), index=True)
    deposit_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # Why it waits or failed, worded when read (a code and its parameters).
    last_error: Mapped[Notice | None] = mapped_column(NoticeText())
    attempts: Mapped[int] = mapped_column(default=0)
    # Delivery queue: retried with backoff until `queued_at` + 24 h; a worker claims a deposit
    # for a lease so that no two workers send it at the same time.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An attempt is under way or died without an answer (set before each call).
    answer_pending: Mapped[bool] = mapped_column(default=False)
    # An earlier attempt may have reached OneConnect without its answer reaching us: a 409 for
    # our reference is then our own document, not someone else's.
    maybe_delivered: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The webhook event that set the current decision: an older one never overwrites it.
    status_event_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_event_id: Mapped[str | None] = mapped_column(String(255))

    organization: Mapped[Organization] = relationship()
    correction_of: Mapped[Deposit | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship()
    events: Mapped[list[DepositEvent]] = relationship(
        back_populates="deposit", order_by="DepositEvent.id", cascade="all, delete-orphan"
    )

    @property
    def may_yet_be_decided(self) -> bool:
        """Failed, yet perhaps received by OneConnect (an answer was lost): the firm's decision,
        if it comes, still applies."""
        return self.status is DepositStatus.FAILED and self.maybe_delivered

    @property
    def heading(self) -> str:
        """What names this invoice for a person: its counterparty, else the reference the user
        typed, else its type (the file name is shown beside it, never alone)."""
        if self.counterparty_name:
            return self.counterparty_name
        if not self.external_reference_generated:
            return str(_l("Invoice %(reference)s", reference=self.external_reference))
        return self.kind.invoice_label

    @property
    def line_count(self) -> int:
        return len((self.entries or {}).get("data", {}).get("lines", []))


class DepositEventKind(enum.Enum):
    QUEUED = "queued"
    ATTEMPT_FAILED = "attempt_failed"
    SENT = "sent"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    RETRY_REQUESTED = "retry_requested"

    @property
    def label(self) -> str:
        return str(_EVENT_LABELS[self.value])


_EVENT_LABELS = {
    "queued": _l("Received by the portal"),
    "attempt_failed": _l("Sending attempt failed"),
    "sent": _l("Sent to OneConnect"),
    "accepted": _l("Accepted by the accounting firm"),
    "refused": _l("Refused by the accounting firm"),
    "failed": _l("Failed"),
    "duplicate": _l("Duplicate reference"),
    "retry_requested": _l("Retry requested"),
}


# Who is making the attempt under way in this context (set by the sender around each attempt).
ATTEMPT_BY: ContextVar[str | None] = ContextVar("attempt_by", default=None)


class DepositEvent(db.Model):
    """One step of a deposit's story, shown on its detail page."""

    __tablename__ = "deposit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[int] = mapped_column(
        ForeignKey("deposits.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DepositEventKind] = mapped_column(ValueEnum(DepositEventKind))
    message: Mapped[Notice | None] = mapped_column(NoticeText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # For a failed attempt: when the sender will try again (None: not retried).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For a step an attempt made: the sender that made it (`host:pid:thread` of a worker,
    # `web@host:pid` of a request), filled in as the step is written.
    made_by: Mapped[str | None] = mapped_column(String(120), default=lambda: ATTEMPT_BY.get())

    deposit: Mapped[Deposit] = relationship(back_populates="events")


_SEARCHED = ("file_name", "external_reference", "document_id", "counterparty_name")


def _counterparty_name(deposit: Deposit) -> str | None:
    return deposit.counterparty_name or (deposit.counterparty or {}).get("name") or None


@event.listens_for(Deposit, "before_insert")
def _summarise_new(_mapper: Any, _connection: Any, deposit: Deposit) -> None:
    deposit.counterparty_name = _counterparty_name(deposit)
    deposit.search_text = search_text(getattr(deposit, name) for name in _SEARCHED)


@event.listens_for(Deposit, "before_update")
def _summarise_changed(_mapper: Any, _connection: Any, deposit: Deposit) -> None:
    state = inspect(deposit)
    if any(state.attrs[name].history.has_changes() for name in (*_SEARCHED, "counterparty")):
        deposit.counterparty_name = _counterparty_name(deposit)
        deposit.search_text = search_text(getattr(deposit, name) for name in _SEARCHED)
