"""Client companies connected through a OneConnect integration, their members and their staff."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models.types import UTCDateTime, ValueEnum, utcnow
from portal.models.users import User


class OrganizationStatus(enum.Enum):
    ACTIVE = "active"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return str({"active": _l("Active"), "revoked": _l("Revoked")}[self.value])


class MembershipRole(enum.Enum):
    OWNER = "owner"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return str({"owner": _l("Owner"), "member": _l("Member")}[self.value])


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    integration_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Fernet token of the integrationSecret; see portal.encryption. Never rendered.
    integration_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[OrganizationStatus] = mapped_column(
        ValueEnum(OrganizationStatus), default=OrganizationStatus.ACTIVE
    )
    revocation_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.status is OrganizationStatus.ACTIVE


class Membership(db.Model):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[MembershipRole] = mapped_column(
        ValueEnum(MembershipRole), default=MembershipRole.MEMBER
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class StaffAssignment(db.Model):
    __tablename__ = "staff_assignments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
