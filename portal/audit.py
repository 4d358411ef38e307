"""The audit log: one function adding who did what, when and from where to the caller's work."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal.catalogue import lazy_gettext as _l
from portal.extensions import db
from portal.models import AuditEvent, Organization, User

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_THROTTLED = "sign_in_throttled"
SIGN_OUT = "sign_out"
USER_REGISTERED = "user_registered"
USER_CREATED = "user_created"
USER_ROLE_CHANGED = "user_role_changed"
USER_DEACTIVATED = "user_deactivated"
USER_REACTIVATED = "user_reactivated"
USER_PASSWORD_RESET = "user_password_reset"
PASSWORD_RESET_REQUESTED = "password_reset_requested"
SESSIONS_ENDED = "sessions_ended"
NOTIFICATIONS_CHANGED = "notifications_changed"
ORGANIZATION_CONNECTED = "organization_connected"
ORGANIZATION_REVOKED = "organization_revoked"
ORGANIZATION_STATUS_REFRESHED = "organization_status_refreshed"
ORGANIZATION_SECRET_REPLACED = "organization_secret_replaced"
MEMBER_ADDED = "member_added"
STAFF_ASSIGNED = "staff_assigned"
STAFF_UNASSIGNED = "staff_unassigned"
DEPOSIT_CREATED = "deposit_created"
DEPOSIT_RETRIED = "deposit_retried"
WEBHOOK_REPROCESSED = "webhook_reprocessed"
QUEUE_SENT_NOW = "queue_sent_now"
PASSWORD_ACCEPTED = "password_accepted"
TWO_FACTOR_FAILED = "two_factor_failed"
TWO_FACTOR_ENABLED = "two_factor_enabled"
TWO_FACTOR_DISABLED = "two_factor_disabled"
TWO_FACTOR_RESET = "two_factor_reset"
RECOVERY_CODE_USED = "recovery_code_used"
RECOVERY_CODES_RENEWED = "recovery_codes_renewed"

ACTIONS = (
    SIGN_IN,
    SIGN_IN_FAILED,
    SIGN_IN_THROTTLED,
    SIGN_OUT,
    USER_REGISTERED,
    USER_CREATED,
    USER_ROLE_CHANGED,
    USER_DEACTIVATED,
    USER_REACTIVATED,
    USER_PASSWORD_RESET,
    PASSWORD_RESET_REQUESTED,
    SESSIONS_ENDED,
    NOTIFICATIONS_CHANGED,
    ORGANIZATION_CONNECTED,
    ORGANIZATION_REVOKED,
    ORGANIZATION_STATUS_REFRESHED,
    ORGANIZATION_SECRET_REPLACED,
    MEMBER_ADDED,
    STAFF_ASSIGNED,
    STAFF_UNASSIGNED,
    DEPOSIT_CREATED,
    DEPOSIT_RETRIED,
    WEBHOOK_REPROCESSED,
    QUEUE_SENT_NOW,
    PASSWORD_ACCEPTED,
    TWO_FACTOR_FAILED,
    TWO_FACTOR_ENABLED,
    TWO_FACTOR_DISABLED,
    TWO_FACTOR_RESET,
    RECOVERY_CODE_USED,
    RECOVERY_CODES_RENEWED,
)

# Each action in the reader's words: the log stores the code, the page chooses the language.
_LABELS: dict[str, Any] = {
    SIGN_IN: _l("Signed in"),
    SIGN_IN_FAILED: _l("Failed sign-in"),
    SIGN_IN_THROTTLED: _l("Sign-in blocked after repeated failures"),
    SIGN_OUT: _l("Signed out"),
    USER_REGISTERED: _l("Account registered by its user"),
    USER_CREATED: _l("User created by an administrator"),
    USER_ROLE_CHANGED: _l("Role changed"),
    USER_DEACTIVATED: _l("Account deactivated"),
    USER_REACTIVATED: _l("Account reactivated"),
    USER_PASSWORD_RESET: _l("Password reset"),
    PASSWORD_RESET_REQUESTED: _l("Password link requested"),
    SESSIONS_ENDED: _l("Signed out everywhere"),
    NOTIFICATIONS_CHANGED: _l("E-mail settings changed"),
    ORGANIZATION_CONNECTED: _l("Organization connected"),
    ORGANIZATION_REVOKED: _l("Integration revoked"),
    ORGANIZATION_STATUS_REFRESHED: _l("Integration status checked with OneConnect"),
    ORGANIZATION_SECRET_REPLACED: _l("Integration secret replaced"),
    MEMBER_ADDED: _l("Member added to an organization"),
    STAFF_ASSIGNED: _l("Staff assigned to an organization"),
    STAFF_UNASSIGNED: _l("Staff removed from an organization"),
    DEPOSIT_CREATED: _l("Invoice deposited"),
    DEPOSIT_RETRIED: _l("Deposit sent again"),
    QUEUE_SENT_NOW: _l("Waiting deposits sent now"),
    WEBHOOK_REPROCESSED: _l("Webhook event processed again"),
    PASSWORD_ACCEPTED: _l("Password accepted, code asked"),
    TWO_FACTOR_FAILED: _l("Wrong two-factor code"),
    TWO_FACTOR_ENABLED: _l("Two-factor sign-in turned on"),
    TWO_FACTOR_DISABLED: _l("Two-factor sign-in turned off"),
    TWO_FACTOR_RESET: _l("Two-factor sign-in reset by an administrator"),
    RECOVERY_CODE_USED: _l("Signed in with a recovery code"),
    RECOVERY_CODES_RENEWED: _l("New recovery codes made"),
}


def action_label(code: str) -> str:
    """The action in the reader's language; a code this release does not know, as it is."""
    label = _LABELS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, words) for every action, in the order of ACTIONS: the audit filter's options."""
    return [(code, action_label(code)) for code in ACTIONS]


def record(
    action: str,
    *,
    actor: User | None,
    organization: Organization | None = None,
    target: object | None = None,
    detail: dict[str, Any] | None = None,
    actor_email: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session, not committed: it joins the caller's unit of work.

    `actor_email` names who acted when there is no user (a failed sign-in); `target` is any
    model with an `id`, kept as its class name and id so the log outlives it.
    """
    target_id = getattr(target, "id", None) if target is not None else None
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor_email if actor_email is not None else actor.email if actor else None),
        organization_id=organization.id if organization is not None else None,
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target_id) if target_id is not None else None,
        detail=detail,
        ip_address=_client_ip(),
    )
    db.session.add(event)
    return event


def _client_ip() -> str | None:
    # remote_addr is the proxy's address unless ProxyFix is configured in front of the app;
    # X-Forwarded-For is not read here because any client can forge it.
    if not has_request_context():
        return None
    address = request.remote_addr
    return address[:45] if address else None
