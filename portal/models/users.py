"""Users of the portal and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models.types import UTCDateTime, ValueEnum, utcnow


class Role(enum.Enum):
    MEMBER = "member"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str({"member": _l("Member"), "staff": _l("Staff"), "admin": _l("Admin")}[self.value])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(ValueEnum(Role), default=Role.MEMBER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the user chose with the switch ("fr", "en"); None: their browser's.
    locale: Mapped[str | None] = mapped_column(String(5))
    # The language of the pages they last read, for e-mails when they chose none.
    pages_locale: Mapped[str | None] = mapped_column(String(5))
    # Which e-mails they want (Settings); password reset links are always sent.
    notify_refusals: Mapped[bool] = mapped_column(default=True)
    notify_failures: Mapped[bool] = mapped_column(default=True)
    notify_revocations: Mapped[bool] = mapped_column(default=True)
    weekly_digest: Mapped[bool] = mapped_column(default=False)

    # "<user id>:<session token>", set when a session is started or read back (portal.auth.sessions)
    # and kept in the session cookie by Flask-Login: the user alone no longer signs anyone in.
    session_key = None  # not a column: per instance, str once a session is started or read

    def get_id(self) -> str:
        if self.session_key is None:
            raise RuntimeError("sign users in through portal.auth.sessions.start")
        return self.session_key

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at sign-in and on reload
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def is_member(self) -> bool:
        return self.role is Role.MEMBER

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


# E-mails are unique whatever their case; lookups go through the same lower() to use this index.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
