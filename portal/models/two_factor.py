"""Two-factor sign-in: an account's TOTP secret and its single-use recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class TwoFactor(db.Model):
    """One account's authenticator. Written when enrolment starts (enabled_at still None) and
    enabled once the user typed a first code; deleted when turned off or reset by an admin."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The base32 TOTP secret, encrypted with the portal's SecretBox (PORTAL_ENCRYPTION_KEYS).
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The 30-second time step of the last code accepted: a code works once, then never again.
    last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


class RecoveryCode(db.Model):
    """A code that stands in for the phone once; only its SHA-256 is kept (the codes are
    random, 50 bits each, so a fast hash is enough to keep them unreadable)."""

    __tablename__ = "two_factor_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique (user_id, code_sha256) index serves the lookups by user too.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
