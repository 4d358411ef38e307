"""Sessions that end: each sign-in is a row, and the session cookie names it by a token.

The cookie stays Flask's signed cookie (nothing else changes for the app), but what it holds
signs someone in only while its row exists: log out deletes the row, and a password change or a
deactivation deletes every row of the account, so a copied cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import g
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import User, UserSession, utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> User:
    """A new session for `user`, and its time as the user's last sign-in (committed); its key
    is then what Flask-Login stores. Every sign-in passes here, the one after registering too."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_sha256=_digest(token)))
    user.last_login_at = utcnow()
    db.session.commit()
    user.session_key = f"{user.id}:{token}"
    return user


def user_for(session_key: str) -> User | None:
    """The user whose live session this key names (one query), or None."""
    user_id, _, token = session_key.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.scalars(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == int(user_id), UserSession.token_sha256 == _digest(token))
    ).first()
    if user is not None:
        user.session_key = session_key
    return user


def end(user: User) -> None:
    """End the session `user` was read from (log out); commits."""
    if user.session_key:
        token = user.session_key.partition(":")[2]
        db.session.execute(delete(UserSession).where(UserSession.token_sha256 == _digest(token)))
    db.session.commit()


def end_all(user: User) -> None:
    """End every session of the account (the caller commits, with the change that calls for it:
    a new password, a deactivation)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def forget_loaded_user() -> None:
    g.pop("_login_user", None)
