"""Devices an account signed in from before: a long-lived signed cookie, so that a stranger's
failed attempts never lock the owner out of their own browser."""

from __future__ import annotations

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.models import User

DEVICE_COOKIE = "portal_device"
DEVICE_MAX_AGE = 180 * 24 * 3600  # seconds


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def remember_device(response: Response, user: User) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(user.id),
        max_age=DEVICE_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def signed_in_here_before(user: User | None) -> bool:
    """Whether this browser holds the device cookie of `user` (a real sign-in made it)."""
    token = request.cookies.get(DEVICE_COOKIE)
    if user is None or not token:
        return False
    try:
        return _serializer().loads(token, max_age=DEVICE_MAX_AGE) == user.id
    except BadSignature:
        return False
