"""One-click unsubscribing (RFC 8058): a signed token naming the account and the setting one
kind of e-mail answers to, carried in List-Unsubscribe and in each notice's footer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from portal.models import MailKind

# The Settings checkbox (a User column) each kind of e-mail answers to; password reset links
# answer to none: they are sent because someone asked.
SETTINGS: dict[MailKind, str] = {
    MailKind.REFUSAL: "notify_refusals",
    MailKind.DEPOSIT_FAILED: "notify_failures",
    MailKind.INTEGRATION_REVOKED: "notify_revocations",
    MailKind.DIGEST: "weekly_digest",
}
_SALT = "mail-unsubscribe"


@dataclass(frozen=True)
class Unsubscription:
    user_id: int
    setting: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def token(user_id: int, kind: MailKind) -> str:
    """A token that unchecks `kind`'s setting for this account. It does not expire: an old
    e-mail's link still works, and it can do nothing else."""
    return str(_serializer().dumps({"u": user_id, "s": SETTINGS[kind]}))


def read(value: str) -> Unsubscription | None:
    """What a token asks, or None when it is not one of ours."""
    try:
        data = _serializer().loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, setting = data.get("u"), data.get("s")
    if not isinstance(user_id, int) or setting not in SETTINGS.values():
        return None
    return Unsubscription(user_id, str(setting))
