"""Invoice files written ahead, before the deposit form is sent: a file is never chosen twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.deposits import Deposit
from portal.models.organizations import Organization
from portal.models.types import UTCDateTime, utcnow
from portal.models.users import User


class Draft(db.Model):
    """A checked file staged for one user and organization, named by an opaque token.

    It becomes a deposit's file when the form is sent (`deposit_id` is then set and the row kept
    a while, so that a second click finds what the first one made); the sender deletes unused
    drafts and their files after a day.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_owner", "user_id", "organization_id", "created_at"),
        Index("ix_drafts_created_at", "created_at"),
        Index("ix_drafts_reading_state", "reading_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The deposit form it was sent with (its generated reference): a form posted twice without
    # script stages the same bytes twice, and this recognises the second time.
    form_key: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    active_content: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deposit_id: Mapped[int | None] = mapped_column(
        ForeignKey("deposits.id", ondelete="SET NULL"), index=True
    )
    # What the invoice says (portal.reading), once read: None until the form asks; "pending"
    # while a photo waits for OCR, "reading" while the sender reads it, then "done", "none"
    # (nothing found) or "failed". `reading` holds the facts and what was proposed from them.
    reading_state: Mapped[str | None] = mapped_column(String(10))
    reading_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()
    deposit: Mapped[Deposit | None] = relationship()

    @property
    def used(self) -> bool:
        return self.deposit_id is not None
