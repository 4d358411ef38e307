"""The half-signed state between a right password and its second-factor code.

Kept in Flask's signed session cookie, for PENDING_SECONDS only, and bound to the password it
followed (an HMAC of the account's password hash, keyed with the portal's secret): a password
change, a deactivation or an admin's reset of the second factor in between ends it. Nobody is
signed in by it; it only lets the code page know whose code to check.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, session

from portal.auth import services
from portal.extensions import db
from portal.models import User, utcnow

PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60


def _password_binding(user: User) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def hold(user: User) -> None:
    """Remember, for PENDING_SECONDS, that `user` typed the right password here."""
    session[PENDING_KEY] = {
        "user": user.id,
        "since": int(utcnow().timestamp()),
        "password": _password_binding(user),
    }


def held_user() -> User | None:
    """The user whose code the page asks for, while the state holds (young enough, same
    password, account active, second factor still on); else None, and the state is dropped."""
    held = session.get(PENDING_KEY)
    user = _still_valid(held) if isinstance(held, dict) else None
    if user is None:
        drop()
    return user


def _still_valid(held: dict[str, object]) -> User | None:
    since, user_id = held.get("since"), held.get("user")
    if not isinstance(since, int) or not isinstance(user_id, int):
        return None
    if not 0 <= utcnow().timestamp() - since <= PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not services.has_second_factor(user):
        return None
    if not hmac.compare_digest(str(held.get("password")), _password_binding(user)):
        return None
    return user


def drop() -> None:
    session.pop(PENDING_KEY, None)
