"""What the admin pages show of stored codes, in the reader's language: webhook outcomes, the
audit log's targets and the parameters of each audit event.

The log keeps codes and parameters ({"from": "member", "to": "staff"}); they are worded here,
when read, so the same line reads in French for one admin and in English for another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal import audit
from portal.catalogue import gettext
from portal.catalogue import lazy_gettext as _l
from portal.i18n import LANGUAGE_NAMES
from portal.models import AuditEvent, OrganizationStatus, ProcessingOutcome, Role
from portal.notices import reason_words

_OUTCOMES: dict[str, Any] = {
    ProcessingOutcome.APPLIED.value: _l("Applied"),
    ProcessingOutcome.STALE.value: _l("Ignored: older than the recorded state"),
    ProcessingOutcome.UNKNOWN_DOCUMENT.value: _l("Unknown document"),
    ProcessingOutcome.UNKNOWN_TYPE.value: _l("Unknown event type"),
    ProcessingOutcome.PENDING.value: _l("Waiting to be processed"),
    ProcessingOutcome.ERROR.value: _l("Error"),
}

_TARGETS: dict[str, Any] = {
    "User": _l("User"),
    "Organization": _l("Organization"),
    "Deposit": _l("Deposit"),
    "WebhookEvent": _l("Webhook event"),
}

# Who revoked an integration (mark_revoked's `source`).
_SOURCES: dict[str, Any] = {
    "portal": _l("The portal"),
    "integration status": _l("Integration status check"),
    "import answer": _l("OneConnect's answer to a deposit"),
    "revocation webhook": _l("OneConnect revocation webhook"),
}

# A parameter's caption, whatever the action (see _caption for the ones depending on it).
_CAPTIONS: dict[str, Any] = {
    "email": _l("User"),
    "role": _l("Role"),
    "organization": _l("Organization"),
    "name": _l("Name"),
    "integration_id": _l("Integration ID"),
    "event_id": _l("Event ID"),
    "file": _l("File"),
    "externalReference": _l("External reference"),
    "reason": _l("Reason"),
    "source": _l("Origin"),
    "active": _l("Status"),
    "errorCode": _l("OneConnect error code"),
    "from": _l("Before"),
    "to": _l("After"),
    "via": _l("How"),
    # The e-mail settings an account changed (notifications_changed), each on or off.
    "refusals": _l("E-mail for each refused invoice"),
    "failures": _l("E-mail for each failed deposit"),
    "revocations": _l("E-mail for each revoked integration"),
    "digest": _l("Weekly summary"),
    "language": _l("Language"),
    # How many waiting deposits an administrator sent at once (queue_sent_now).
    "deposits": _l("Deposits"),
}

# How a change was made (the `via` of password and e-mail settings changes).
_VIA: dict[str, Any] = {
    "e-mail link": _l("with a link sent by e-mail"),
    "settings": _l("on the Settings page"),
    "unsubscribe link": _l("with the unsubscribe link of an e-mail"),
}


def outcome_label(outcome: ProcessingOutcome | str | None) -> str:
    """A webhook event's outcome in words; an unknown code as it is."""
    if outcome is None:
        return ""
    code = outcome.value if isinstance(outcome, ProcessingOutcome) else str(outcome)
    label = _OUTCOMES.get(code)
    return str(label) if label is not None else code


def target_label(target_type: str | None, target_id: str | None) -> str:
    """What an audit event acted on: "User #4", "Organisation #2"…"""
    if not target_type:
        return ""
    kind = _TARGETS.get(target_type)
    return gettext(
        "%(kind)s #%(id)s",
        kind=str(kind) if kind is not None else target_type,
        id=target_id or "?",
    )


def _caption(action: str, key: str) -> str:
    if action == audit.USER_ROLE_CHANGED and key in ("from", "to"):
        return gettext("Previous role") if key == "from" else gettext("New role")
    if action == audit.WEBHOOK_REPROCESSED and key in ("from", "to"):
        return gettext("Previous outcome") if key == "from" else gettext("New outcome")
    if action in (audit.STAFF_ASSIGNED, audit.STAFF_UNASSIGNED) and key == "email":
        return gettext("Staff member")
    if action == audit.MEMBER_ADDED and key == "email":
        return gettext("Member")
    if action == audit.ORGANIZATION_CONNECTED and key == "name":
        return gettext("Organization")
    caption = _CAPTIONS.get(key)
    return str(caption) if caption is not None else key


def _role(value: Any) -> str:
    try:
        return Role(value).label
    except ValueError:
        return str(value)


def _value(action: str, key: str, value: Any) -> str:
    if key == "reason":
        return reason_words(None if value is None else str(value))
    if action == audit.NOTIFICATIONS_CHANGED and key == "language":
        return LANGUAGE_NAMES.get(str(value), gettext("the browser's language"))
    if value is None:
        return "—"
    if key == "role" or (action == audit.USER_ROLE_CHANGED and key in ("from", "to")):
        return _role(value)
    if action == audit.WEBHOOK_REPROCESSED and key in ("from", "to"):
        return outcome_label(str(value))
    if key == "active" and isinstance(value, bool):
        return (OrganizationStatus.ACTIVE if value else OrganizationStatus.REVOKED).label
    if key == "via":
        via = _VIA.get(str(value))
        return str(via) if via is not None else str(value)
    if key == "source":
        source = _SOURCES.get(str(value).strip().lower())
        return str(source) if source is not None else str(value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


def audit_details(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's parameters as (caption, words) pairs, in the order they were recorded."""
    detail = event.detail
    if not isinstance(detail, Mapping):
        return [] if detail is None else [(gettext("Details"), str(detail))]
    return [
        (_caption(event.action, str(key)), _value(event.action, key, value))
        for key, value in detail.items()
    ]
