"""Forgotten passwords: a link e-mailed on request, good for one use within one hour.

The link carries a random token; the database keeps only its SHA-256 (password_resets), and the
outbox keeps the token encrypted until the e-mail is sent. Asking never tells whether an account
exists: the answer is the same either way, and the e-mail goes out later, from the sender.
Changing the password ends every session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update

from portal import audit
from portal.auth import sessions
from portal.auth.services import find_user, normalize_email
from portal.extensions import db
from portal.mail import outbox
from portal.models import MailKind, PasswordReset, User, utcnow
from portal.passwords import hash_password

LIFETIME = timedelta(hours=1)
# Links sent to one account per hour, whoever asks: a stranger cannot flood someone's inbox.
# Counted in the database, so every worker agrees (pitfall 11); the per-IP limit is the view's.
MAX_LINKS_PER_HOUR = 3


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_link(email: str) -> None:
    """Write a reset link's e-mail for the account using `email`, if there is an active one and
    it has not had MAX_LINKS_PER_HOUR links within the hour; audits the request. Commits."""
    typed = normalize_email(email).lower()[:254]
    audit.record(audit.PASSWORD_RESET_REQUESTED, actor=None, actor_email=typed)
    user = find_user(email)
    if user is None or not user.active or _recent_links(user) >= MAX_LINKS_PER_HOUR:
        db.session.commit()
        return
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(
        user_id=user.id, token_sha256=_digest(token), created_at=now, expires_at=now + LIFETIME
    )
    db.session.add(reset)
    db.session.flush()
    outbox.queue(
        MailKind.PASSWORD_RESET,
        user,
        key=f"password_reset:{reset.id}",
        params={"expires_at": reset.expires_at.isoformat()},
        secret=token,
    )
    db.session.commit()


def _recent_links(user: User) -> int:
    since = utcnow() - timedelta(hours=1)
    count = db.session.scalar(
        select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > since
        )
    )
    return int(count or 0)


def usable(token: str) -> PasswordReset | None:
    """The reset this token names while it can still be used (unused, within its hour, for an
    active account), else None."""
    reset = db.session.scalars(
        select(PasswordReset).where(PasswordReset.token_sha256 == _digest(token))
    ).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset if reset.user.active else None


def change_password(token: str, password: str) -> User | None:
    """Set the account's new password if the token is still usable, using it up, ending every
    session of the account and audited; commits. None when the link was used or has expired
    (also when two tabs use it at once: one of them wins)."""
    reset = usable(token)
    if reset is None:
        db.session.rollback()
        return None
    now = utcnow()
    taken = db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
    )
    if taken.rowcount != 1:
        db.session.rollback()
        return None
    user = reset.user
    user.password_hash = hash_password(password)
    # Every other link the account still holds is spent too: the password they were for is gone.
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    sessions.end_all(user)
    audit.record(
        audit.USER_PASSWORD_RESET,
        actor=user,
        target=user,
        detail={"email": user.email, "via": "e-mail link"},
    )
    db.session.commit()
    return user
