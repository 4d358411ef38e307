"""Webhook deliveries received from OneConnect, kept with what we made of them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, ValueEnum, utcnow
from portal.notices import Notice, NoticeText


class ProcessingOutcome(enum.Enum):
    APPLIED = "applied"
    STALE = "stale"  # an older event than the state already recorded
    UNKNOWN_DOCUMENT = "unknown_document"
    UNKNOWN_TYPE = "unknown_type"
    PENDING = "pending"
    ERROR = "error"


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The CloudEvents id: a repeated delivery finds its first copy here and changes nothing.
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(255))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    body: Mapped[str] = mapped_column(Text)
    # Only verified deliveries are stored; this records which key vouched for it.
    verification: Mapped[Notice] = mapped_column(NoticeText())
    outcome: Mapped[ProcessingOutcome] = mapped_column(
        ValueEnum(ProcessingOutcome), default=ProcessingOutcome.PENDING
    )
    # Why an event was not applied, worded when read.
    outcome_detail: Mapped[Notice | None] = mapped_column(NoticeText())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    integration_id: Mapped[str | None] = mapped_column(String(255), index=True)
    document_id: Mapped[str | None] = mapped_column(String(255), index=True)
    deposit_id: Mapped[int | None] = mapped_column(ForeignKey("deposits.id", ondelete="SET NULL"))
