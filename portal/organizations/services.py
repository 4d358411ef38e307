"""Connecting an organization: checked upstream before anything is saved."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import audit, notices
from portal.auth.services import find_user
from portal.catalogue import gettext as _
from portal.encryption import SecretBox
from portal.extensions import db
from portal.mail import notifications
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    Membership,
    MembershipRole,
    Organization,
    OrganizationStatus,
    User,
    utcnow,
)
from portal.notices import Notice
from portal.oneconnect import errors as upstream
from portal.oneconnect.client import OneConnectClient


class ConnectionRefused(Exception):
    """The integration cannot be connected; the message says why and what to do."""


def connect_organization(
    name: str,
    integration_id: str,
    integration_secret: str,
    *,
    actor: User,
    client: OneConnectClient,
    secret_box: SecretBox,
) -> Organization:
    """Check the integration upstream, then save the organization with `actor` as its owner.

    Calls the integration-status route; commits once on success; raises ConnectionRefused
    (nothing saved) when the integration is taken, unknown, revoked or unreachable.
    """
    integration_id = integration_id.strip()
    existing = db.session.scalars(
        select(Organization).where(
            func.lower(Organization.integration_id) == integration_id.lower()
        )
    ).first()
    if existing is not None:
        raise ConnectionRefused(
            _(
                "This integration is already connected to an organization in the portal. "
                "Ask its owner to add you as a member."
            )
        )
    check_integration(integration_id, integration_secret, client)
    organization = Organization(
        name=name.strip(),
        integration_id=integration_id,
        integration_secret_encrypted=secret_box.encrypt(integration_secret),
        created_by_id=actor.id,
    )
    organization.memberships.append(Membership(user=actor, role=MembershipRole.OWNER))
    db.session.add(organization)
    try:
        db.session.flush()  # the audit entry needs the organization's id
        audit.record(
            audit.ORGANIZATION_CONNECTED,
            actor=actor,
            organization=organization,
            target=organization,
            detail={"name": organization.name, "integration_id": integration_id},
        )
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise ConnectionRefused(
            _("This integration was connected by someone else a moment ago.")
        ) from error
    return organization


def _end_read_transaction() -> None:
    """A call to OneConnect can last ~30 s: no transaction (and pooled connection) may stay open
    across it. Only the lookups' read transaction is open here; nothing is pending."""
    db.session.commit()


def check_integration(integration_id: str, secret: str, client: OneConnectClient) -> None:
    """Raise ConnectionRefused unless OneConnect reports the integration active."""
    _end_read_transaction()
    try:
        status = client.integration_status(integration_id, secret)
    except (upstream.AuthenticationFailed, upstream.IntegrationNotFound) as error:
        raise ConnectionRefused(
            _(
                "OneConnect does not recognise this Integration ID and secret. Copy both again "
                "from the OneConnect setup page; nothing was saved."
            )
        ) from error
    except upstream.IntegrationRevoked as error:
        raise ConnectionRefused(_revoked_message(error.reason)) from error
    except upstream.TransientError as error:
        raise ConnectionRefused(
            _("OneConnect cannot be reached right now; nothing was saved. Try again in a minute.")
        ) from error
    except upstream.OneConnectError as error:
        raise ConnectionRefused(
            _(
                "OneConnect gave an unexpected answer (%(detail)s); nothing was saved.",
                detail=notices.describe(error),
            )
        ) from error
    if not status.active:
        raise ConnectionRefused(_revoked_message(status.revocation_reason))


def _revoked_message(reason: str | None) -> str:
    return _(
        "This integration has been revoked (%(reason)s). Ask your accountant for a new "
        "invitation to get a new Integration ID and secret.",
        reason=notices.reason_words(reason),
    )


def mark_revoked(
    organization: Organization,
    reason: str | None,
    *,
    source: str,
    actor: User | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Record a revocation (audited once, when it happens) and fail the organization's queued
    deposits with its reason: they could never be sent. Not committed: the caller's unit of
    work owns it. `source` says who revoked (the portal, a webhook, an import answer…).
    The organization's members are e-mailed (in the same unit of work) when it happens."""
    newly_revoked = organization.status is not OrganizationStatus.REVOKED
    if newly_revoked:
        organization.status = OrganizationStatus.REVOKED
        organization.revocation_reason = reason
        organization.revoked_at = utcnow()
        audit.record(
            audit.ORGANIZATION_REVOKED,
            actor=actor,
            organization=organization,
            target=organization,
            detail={"reason": reason, "source": source, **(detail or {})},
        )
    message = organization_revoked_message(organization.revocation_reason)
    # Locked and re-read: a sender recording Sent for one of them meanwhile wins (PostgreSQL
    # re-checks the status once the row is free), and that deposit is left alone.
    waiting = db.session.scalars(
        select(Deposit)
        .where(Deposit.organization_id == organization.id, Deposit.status == DepositStatus.QUEUED)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for deposit in waiting:
        deposit.status = DepositStatus.FAILED
        deposit.last_error = message
        deposit.next_attempt_at = None
        deposit.events.append(DepositEvent(kind=DepositEventKind.FAILED, message=message))
    if newly_revoked:
        notifications.integration_revoked(
            organization, organization.revocation_reason, failed=len(waiting), actor=actor
        )


def organization_revoked_message(reason: str | None) -> Notice:
    return Notice("organization.revoked", {"reason": reason})


class OrganizationActionRefused(Exception):
    """An action on an organization cannot be done; the message says why and what to do."""


def disconnect_organization(
    organization: Organization,
    *,
    actor: User,
    client: OneConnectClient,
    secret_box: SecretBox,
    reason: str,
) -> None:
    """Revoke the integration upstream (PUT …/revoke), then mark it revoked and audit it; commits.

    An integration OneConnect already revoked is marked revoked too. Raises
    OrganizationActionRefused (nothing changed) when OneConnect cannot be reached or refuses.
    """
    secret = secret_box.decrypt(organization.integration_secret_encrypted)
    integration_id = organization.integration_id
    _end_read_transaction()
    try:
        client.revoke(integration_id, secret)
    except upstream.IntegrationRevoked as error:
        reason = error.reason or reason
    except upstream.TransientError as error:
        raise OrganizationActionRefused(
            _("OneConnect cannot be reached right now; nothing was changed. Try again in a minute.")
        ) from error
    except upstream.OneConnectError as error:
        raise OrganizationActionRefused(
            _(
                "OneConnect refused the revocation (%(detail)s); nothing was changed.",
                detail=notices.describe(error),
            )
        ) from error
    mark_revoked(organization, reason, source="portal", actor=actor)
    db.session.commit()


def refresh_status(
    organization: Organization, *, actor: User, client: OneConnectClient, secret_box: SecretBox
) -> bool:
    """Ask OneConnect whether the integration is still active and record a revocation; commits.

    Returns whether it is active. Raises OrganizationActionRefused when OneConnect cannot say.
    """
    secret = secret_box.decrypt(organization.integration_secret_encrypted)
    integration_id = organization.integration_id
    _end_read_transaction()
    try:
        status = client.integration_status(integration_id, secret)
    except upstream.IntegrationRevoked as error:
        status = None
        reason: str | None = error.reason
    except upstream.OneConnectError as error:
        raise OrganizationActionRefused(
            _(
                "OneConnect could not tell the integration's status (%(detail)s).",
                detail=notices.describe(error),
            )
        ) from error
    else:
        reason = status.revocation_reason
    active = status is not None and status.active
    if not active:
        mark_revoked(organization, reason, source="integration status", actor=actor)
    audit.record(
        audit.ORGANIZATION_STATUS_REFRESHED,
        actor=actor,
        organization=organization,
        target=organization,
        detail={"active": active, "reason": reason},
    )
    db.session.commit()
    return active


def replace_secret(
    organization: Organization,
    secret: str,
    *,
    actor: User,
    client: OneConnectClient,
    secret_box: SecretBox,
) -> None:
    """Check the new secret upstream, then store it encrypted and reactivate; commits.

    Raises ConnectionRefused (nothing saved) when OneConnect does not accept it.
    """
    check_integration(organization.integration_id, secret, client)
    organization.integration_secret_encrypted = secret_box.encrypt(secret)
    organization.status = OrganizationStatus.ACTIVE
    organization.revocation_reason = None
    organization.revoked_at = None
    audit.record(
        audit.ORGANIZATION_SECRET_REPLACED,
        actor=actor,
        organization=organization,
        target=organization,
    )
    db.session.commit()


def add_member(organization: Organization, email: str, *, actor: User) -> Membership:
    """Add an existing member account to the organization; commits.

    Raises OrganizationActionRefused when no such member account exists or it already belongs.
    """
    user = find_user(email)
    if user is None or not user.is_member:
        raise OrganizationActionRefused(
            _(
                "No member account uses this e-mail. Ask your colleague to create an account "
                "first, then add them again."
            )
        )
    if db.session.get(Membership, (user.id, organization.id)) is not None:
        raise OrganizationActionRefused(
            _("%(email)s is already a member of this organization.", email=user.email)
        )
    membership = Membership(user=user, organization=organization, role=MembershipRole.MEMBER)
    db.session.add(membership)
    audit.record(
        audit.MEMBER_ADDED,
        actor=actor,
        organization=organization,
        target=user,
        detail={"email": user.email},
    )
    db.session.commit()
    return membership
