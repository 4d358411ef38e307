"""The audit log: one function adding who did what, when and from where to the caller's work."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

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
)


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
