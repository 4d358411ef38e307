"""Changing an account's settings: its e-mails and language, and ending all its sessions."""

from __future__ import annotations

from typing import Any

from portal import audit
from portal.auth import sessions
from portal.extensions import db
from portal.i18n import supported
from portal.mail.unsubscribe import Unsubscription
from portal.models import User

# The audit log's short names for each e-mail setting (see portal.admin.words).
_AUDIT_NAMES = {
    "notify_refusals": "refusals",
    "notify_failures": "failures",
    "notify_revocations": "revocations",
    "weekly_digest": "digest",
}


def save(user: User, *, notifications: dict[str, bool], locale: str | None) -> bool:
    """Set which e-mails the account gets and its language ("" or None: the browser's); audits
    and commits what changed. Returns whether anything did."""
    changes: dict[str, Any] = {}
    for setting, wanted in notifications.items():
        if setting in _AUDIT_NAMES and getattr(user, setting) is not wanted:
            setattr(user, setting, wanted)
            changes[_AUDIT_NAMES[setting]] = wanted
    language = supported(locale or None)
    if user.locale != language:
        user.locale = language
        changes["language"] = language
    if not changes:
        return False
    audit.record(
        audit.NOTIFICATIONS_CHANGED, actor=user, target=user, detail={**changes, "via": "settings"}
    )
    db.session.commit()
    return True


def unsubscribe(request: Unsubscription) -> User | None:
    """Uncheck the setting an e-mail's unsubscribe link names (audited, committed); the account,
    or None when it no longer exists. Doing it twice changes nothing the second time."""
    user = db.session.get(User, request.user_id)
    if user is None:
        return None
    if getattr(user, request.setting):
        setattr(user, request.setting, False)
        audit.record(
            audit.NOTIFICATIONS_CHANGED,
            actor=None,
            actor_email=user.email,
            target=user,
            detail={_AUDIT_NAMES[request.setting]: False, "via": "unsubscribe link"},
        )
        db.session.commit()
    return user


def sign_out_everywhere(user: User) -> None:
    """End every session of the account, the one asking included (audited, committed)."""
    sessions.end_all(user)
    audit.record(audit.SESSIONS_ENDED, actor=user, target=user)
    db.session.commit()
