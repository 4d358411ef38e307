"""What admins change: accounts, roles, staff assignments, webhook reprocessing. Each function
audits its change and commits once; lists are keyset-paginated, newest first."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_

from portal import audit
from portal.auth import services as accounts
from portal.auth import sessions
from portal.catalogue import gettext as _
from portal.extensions import db
from portal.models import (
    AuditEvent,
    MailStatus,
    Organization,
    OutgoingMail,
    Role,
    StaffAssignment,
    User,
    WebhookEvent,
)
from portal.passwords import hash_password
from portal.webhooks.services import process_event


class AdminActionRefused(Exception):
    """The change is not allowed; the message says why."""


def create_user(
    email: str, role: Role, password: str | None, *, actor: User
) -> tuple[User, str | None]:
    """Create an account (audited, committed); returns it and the generated password, if any.

    Raises AdminActionRefused when the e-mail is taken.
    """
    generated = None if password else secrets.token_urlsafe(12)
    try:
        user = accounts.create_user(email, password or generated or "", role, actor=actor)
    except accounts.AccountError as error:
        raise AdminActionRefused(
            _("An account already exists for %(email)s.", email=email.strip())
        ) from error
    return user, generated


def change_role(user: User, role: Role, *, actor: User) -> None:
    """Give `user` another role (audited, committed); an admin cannot demote themself."""
    if user.id == actor.id and role is not Role.ADMIN:
        raise AdminActionRefused(_("You cannot take the admin role from yourself."))
    if user.role is role:
        return
    previous = user.role
    user.role = role
    audit.record(
        audit.USER_ROLE_CHANGED,
        actor=actor,
        target=user,
        detail={"email": user.email, "from": previous.value, "to": role.value},
    )
    db.session.commit()


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate (signed out at its next request, refused at sign-in) or reactivate; commits."""
    if user.id == actor.id and not active:
        raise AdminActionRefused(_("You cannot deactivate your own account."))
    if user.active is active:
        return
    user.active = active
    if not active:
        sessions.end_all(user)
    audit.record(
        audit.USER_REACTIVATED if active else audit.USER_DEACTIVATED,
        actor=actor,
        target=user,
        detail={"email": user.email},
    )
    db.session.commit()


def reset_password(user: User, *, actor: User) -> str:
    """Give `user` a new random password (audited, committed) and return it, to show once."""
    password = secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    sessions.end_all(user)  # whoever knew the old password is signed out everywhere
    audit.record(audit.USER_PASSWORD_RESET, actor=actor, target=user, detail={"email": user.email})
    db.session.commit()
    return password


def assign(staff: User, organization: Organization, *, actor: User) -> None:
    """Let a staff member review an organization (audited, committed)."""
    if not staff.is_staff:
        raise AdminActionRefused(_("Only staff members are assigned organizations."))
    if db.session.get(StaffAssignment, (staff.id, organization.id)) is not None:
        raise AdminActionRefused(
            _("%(email)s already reviews %(name)s.", email=staff.email, name=organization.name)
        )
    db.session.add(
        StaffAssignment(user_id=staff.id, organization_id=organization.id, assigned_by_id=actor.id)
    )
    audit.record(
        audit.STAFF_ASSIGNED,
        actor=actor,
        organization=organization,
        target=staff,
        detail={"email": staff.email, "organization": organization.name},
    )
    db.session.commit()


def unassign(assignment: StaffAssignment, *, actor: User) -> None:
    """End a staff assignment (audited, committed)."""
    audit.record(
        audit.STAFF_UNASSIGNED,
        actor=actor,
        organization=assignment.organization,
        target=assignment.user,
        detail={"email": assignment.user.email, "organization": assignment.organization.name},
    )
    db.session.delete(assignment)
    db.session.commit()


def reprocess(event: WebhookEvent, *, actor: User) -> WebhookEvent:
    """Apply a stored webhook event again (process_event commits), then audit it; commits."""
    previous = event.outcome.value
    process_event(event)
    audit.record(
        audit.WEBHOOK_REPROCESSED,
        actor=actor,
        target=event,
        detail={"event_id": event.event_id, "from": previous, "to": event.outcome.value},
    )
    db.session.commit()
    return event


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _encode(moment: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{ident}".encode()).decode().rstrip("=")


def _decode(text: str | None) -> tuple[datetime, int] | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, _sep, ident = raw.partition("|")
        when = datetime.fromisoformat(moment)
        return (when, int(ident)) if when.tzinfo is not None else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _keyset(query: Select[Any], moment: Any, ident: Any, after: str | None, size: int) -> Page:
    cursor = _decode(after)
    if cursor is not None:
        query = query.where(tuple_(moment, ident) < tuple_(*cursor))
    rows = db.session.scalars(query.order_by(moment.desc(), ident.desc()).limit(size + 1)).all()
    items = list(rows[:size])
    more = len(rows) > size and items
    last = items[-1] if more else None
    return Page(items, _encode(getattr(last, moment.key), last.id) if last is not None else None)


def audit_page(*, action: str | None, actor: str | None, after: str | None, size: int) -> Page:
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor_email.ilike(f"%{_escape(actor)}%", escape="\\"))
    return _keyset(query, AuditEvent.created_at, AuditEvent.id, after, size)


def mail_page(*, status: MailStatus | None, after: str | None, size: int) -> Page:
    query = select(OutgoingMail)
    if status is not None:
        query = query.where(OutgoingMail.status == status)
    return _keyset(query, OutgoingMail.created_at, OutgoingMail.id, after, size)


def webhook_page(*, after: str | None, size: int) -> Page:
    return _keyset(select(WebhookEvent), WebhookEvent.received_at, WebhookEvent.id, after, size)


def _escape(text: str) -> str:
    return text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
