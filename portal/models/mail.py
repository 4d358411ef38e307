"""The outbox: every e-mail the portal sends is first a row here, written in the transaction of
its cause, then sent by the sender with the claims and retries deposits use."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalogue import lazy_gettext as _l
from portal.catalogue import lazy_pgettext
from portal.extensions import db
from portal.models.types import UTCDateTime, ValueEnum, utcnow
from portal.models.users import User
from portal.notices import Notice, NoticeText


class MailKind(enum.Enum):
    REFUSAL = "refusal"
    DEPOSIT_FAILED = "deposit_failed"
    INTEGRATION_REVOKED = "integration_revoked"
    PASSWORD_RESET = "password_reset"
    TWO_FACTOR_RESET = "two_factor_reset"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self.value])


_KIND_LABELS = {
    "refusal": _l("Invoice refused"),
    "deposit_failed": _l("Deposit failed"),
    "integration_revoked": _l("Integration revoked"),
    "password_reset": _l("Password reset link"),
    "two_factor_reset": _l("Two-factor sign-in reset"),
    "digest": _l("Weekly summary"),
}


class MailStatus(enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self.value])


# An e-mail (masculine in French), not a deposit's invoice: words of their own.
_STATUS_LABELS = {
    "queued": lazy_pgettext("e-mail", "Waiting"),
    "sent": lazy_pgettext("e-mail", "Sent"),
    "failed": lazy_pgettext("e-mail", "Failed"),
}


class OutgoingMail(db.Model):
    __tablename__ = "outgoing_mails"
    __table_args__ = (
        # The sender's queue, as for deposits.
        Index("ix_outgoing_mails_queue", "status", "next_attempt_at"),
        # The admin's list, newest first.
        Index("ix_outgoing_mails_recent", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(ValueEnum(MailKind))
    # One e-mail per cause ("refusal:42"): written with ON CONFLICT DO NOTHING, so a webhook
    # delivered three times, or two senders noticing one failure, make one row.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    # The recipient's language when the cause happened ("fr", "en").
    locale: Mapped[str] = mapped_column(String(5))
    # What the e-mail says, as data (names, reasons as notices, ids for links), worded when sent.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A password reset's token, encrypted (portal.encryption) until the e-mail is sent or
    # fails, then erased: the database keeps only its SHA-256 (password_resets).
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[MailStatus] = mapped_column(ValueEnum(MailStatus), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set before each hand-over to the server: still set later means the attempt died without
    # recording its outcome, and the e-mail may have gone out (it is sent again, same Message-ID).
    answer_pending: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Why it waits or failed (the server's answer), worded when read.
    last_error: Mapped[Notice | None] = mapped_column(NoticeText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[User | None] = relationship()
