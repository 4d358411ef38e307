"""Connecting an organization: checked upstream before anything is saved."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.encryption import SecretBox
from portal.extensions import db
from portal.models import (
    Membership,
    MembershipRole,
    Organization,
    OrganizationStatus,
    User,
    utcnow,
)
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
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise ConnectionRefused(
            _("This integration was connected by someone else a moment ago.")
        ) from error
    return organization


def check_integration(integration_id: str, secret: str, client: OneConnectClient) -> None:
    """Raise ConnectionRefused unless OneConnect reports the integration active."""
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
            _("OneConnect gave an unexpected answer (%(detail)s); nothing was saved.", detail=error)
        ) from error
    if not status.active:
        raise ConnectionRefused(_revoked_message(status.revocation_reason))


def _revoked_message(reason: str | None) -> str:
    return _(
        "This integration has been revoked (%(reason)s). Ask your accountant for a new "
        "invitation to get a new Integration ID and secret.",
        reason=reason or _("no reason given"),
    )


def mark_revoked(organization: Organization, reason: str | None) -> None:
    """Record a revocation (not committed: the caller's unit of work owns it)."""
    if organization.status is OrganizationStatus.REVOKED:
        return
    organization.status = OrganizationStatus.REVOKED
    organization.revocation_reason = reason
    organization.revoked_at = utcnow()
