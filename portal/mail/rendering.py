"""Each kind of e-mail in words: subject, text and HTML, in the recipient's language.

Rendered when sent, from the row's data, with the templates under templates/mail/: the text
part is complete on its own; the HTML part (autoescaped, styles inlined) says the same with a
button. Templates are rendered straight from the Jinja environment: a sender thread has no
request, so the pages' context processors (the signed-in user's menu) do not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale

from portal.catalogue import gettext as _
from portal.i18n import format_day
from portal.mail import links, unsubscribe
from portal.mail.messages import Written
from portal.models import MailKind, OutgoingMail
from portal.notices import Notice, reason_words


def write(mail: OutgoingMail) -> Written:
    """The e-mail `mail` stands for, worded in its recipient's language."""
    with force_locale(mail.locale):
        subject, context = _WRITERS[mail.kind](mail)
        unsubscribe_url = None
        if mail.kind in unsubscribe.SETTINGS and mail.recipient_id is not None:
            unsubscribe_url = links.absolute(
                "settings.unsubscribe", token=unsubscribe.token(mail.recipient_id, mail.kind)
            )
        context.update(
            subject=subject,
            kind=mail.kind.value,
            unsubscribe_url=unsubscribe_url,
            settings_url=links.absolute("settings.index"),
            portal_url=links.absolute("main.home"),
            language=mail.locale,
        )
        environment = current_app.jinja_env
        text = environment.get_template(f"mail/{mail.kind.value}.txt").render(**context)
        html = environment.get_template(f"mail/{mail.kind.value}.html").render(**context)
    return Written(subject=subject, text=text, html=html, unsubscribe_url=unsubscribe_url)


def _notice(data: Any) -> str:
    return str(Notice.from_data(data)) if data else ""


def _refusal(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    params = mail.params
    deposit_id = params["deposit_id"]
    return _("Invoice refused: %(file)s", file=params["file"]), {
        "params": params,
        "reason": params.get("reason"),
        "deposit_url": links.absolute("deposits.detail", deposit_id=deposit_id),
        "correct_url": links.absolute("deposits.correct", deposit_id=deposit_id),
    }


def _deposit_failed(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    params = mail.params
    return _("Invoice not delivered: %(file)s", file=params["file"]), {
        "params": params,
        "reason": _notice(params.get("reason")),
        "deposit_url": links.absolute("deposits.detail", deposit_id=params["deposit_id"]),
    }


def _integration_revoked(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    params = mail.params
    return _("Integration revoked: %(organization)s", organization=params["organization"]), {
        "params": params,
        "reason": reason_words(params.get("reason")),
        "failed": int(params.get("failed") or 0),
        "organization_url": links.absolute(
            "organizations.members", organization_id=params["organization_id"]
        ),
        "connect_url": links.absolute("organizations.new"),
    }


def _password_reset(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    if mail.secret is None:
        raise ValueError("the reset link's token is gone")
    token = current_app.extensions["secret_box"].decrypt(mail.secret)
    return _("Reset your password"), {
        "reset_url": links.absolute("auth.reset_password", token=token),
        "forgot_url": links.absolute("auth.forgot_password"),
        "expires_at": datetime.fromisoformat(mail.params["expires_at"]),
    }


def _two_factor_reset(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    return _("Your two-factor sign-in was reset"), {
        "reset_at": datetime.fromisoformat(mail.params["reset_at"]),
        "two_factor_url": links.absolute("settings.two_factor"),
        "forgot_url": links.absolute("auth.forgot_password"),
    }


def _digest(mail: OutgoingMail) -> tuple[str, dict[str, Any]]:
    params = mail.params
    start, end = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    organizations = []
    for organization in params["organizations"]:
        organizations.append(
            {
                **organization,
                "history_url": links.absolute("deposits.index", organization_id=organization["id"]),
                "refused": [
                    {**item, "url": links.absolute("deposits.detail", deposit_id=item["id"])}
                    for item in organization.get("refused", [])
                ],
                "failed": [
                    {**item, "url": links.absolute("deposits.detail", deposit_id=item["id"])}
                    for item in organization.get("failed", [])
                ],
            }
        )
    subject = _(
        "Your week on the portal, %(start)s to %(end)s",
        start=format_day(start),
        end=format_day(end),
    )
    return subject, {
        "params": params,
        "start": start,
        "end": end,
        "staff": params.get("audience") == "staff",
        "organizations": organizations,
    }


_WRITERS: dict[MailKind, Callable[[OutgoingMail], tuple[str, dict[str, Any]]]] = {
    MailKind.REFUSAL: _refusal,
    MailKind.DEPOSIT_FAILED: _deposit_failed,
    MailKind.INTEGRATION_REVOKED: _integration_revoked,
    MailKind.PASSWORD_RESET: _password_reset,
    MailKind.TWO_FACTOR_RESET: _two_factor_reset,
    MailKind.DIGEST: _digest,
}
