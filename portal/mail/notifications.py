"""Which events e-mail whom: each function adds the e-mails of one event to the caller's unit
of work (never committed here), for the recipients who want them (Settings).

A cause writes its e-mail in its own transaction, under a key naming it, so the e-mail exists
if and only if the cause was recorded, and once however often the cause is seen again.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import Deposit, MailKind, Membership, Organization, User, utcnow
from portal.notices import Notice


def _wants(user: User | None, setting: str) -> bool:
    return user is not None and user.active and bool(getattr(user, setting))


def invoice_refused(deposit: Deposit) -> None:
    """The person who deposited a refused invoice hears of it, with the accounting firm's
    reason and the way to the deposit; once per deposit."""
    depositor = deposit.created_by
    if not _wants(depositor, "notify_refusals"):
        return
    assert depositor is not None
    outbox.queue(
        MailKind.REFUSAL,
        depositor,
        key=f"refusal:{deposit.id}",
        params={
            "deposit_id": deposit.id,
            "file": deposit.file_name,
            "reference": deposit.external_reference,
            "organization": deposit.organization.name,
            "reason": deposit.rejection_reason,
        },
    )


def deposit_failed(deposit: Deposit, reason: Notice) -> None:
    """The person who deposited an invoice the portal gave up sending hears why and how to
    retry; once per delivery window (a Retry opens a new one)."""
    depositor = deposit.created_by
    if not _wants(depositor, "notify_failures"):
        return
    assert depositor is not None
    window = deposit.queued_at.isoformat() if deposit.queued_at else str(deposit.attempts)
    outbox.queue(
        MailKind.DEPOSIT_FAILED,
        depositor,
        key=f"deposit_failed:{deposit.id}:{window}",
        params={
            "deposit_id": deposit.id,
            "file": deposit.file_name,
            "reference": deposit.external_reference,
            "organization": deposit.organization.name,
            "reason": reason.as_data(),
        },
    )


def integration_revoked(
    organization: Organization, reason: str | None, *, failed: int, actor: User | None
) -> None:
    """Every member of the organization (but whoever revoked it) hears that its integration was
    revoked, why, and how to reconnect; once per revocation."""
    members = db.session.scalars(
        select(User).join(Membership).where(Membership.organization_id == organization.id)
    ).all()
    revoked_at = organization.revoked_at.isoformat() if organization.revoked_at else ""
    for member in members:
        if actor is not None and member.id == actor.id:
            continue  # they did it themselves, on the page that said so
        if not _wants(member, "notify_revocations"):
            continue
        outbox.queue(
            MailKind.INTEGRATION_REVOKED,
            member,
            key=f"integration_revoked:{organization.id}:{revoked_at}:{member.id}",
            params={
                "organization_id": organization.id,
                "organization": organization.name,
                "reason": reason,
                "failed": failed,
            },
        )


def two_factor_reset(user: User) -> None:
    """An account whose two-factor sign-in an administrator reset hears of it (always: if they
    did not ask for it, they must act), with the way to enrol again; once per reset."""
    reset_at = utcnow().isoformat()
    outbox.queue(
        MailKind.TWO_FACTOR_RESET,
        user,
        key=f"two_factor_reset:{user.id}:{reset_at}",
        params={"reset_at": reset_at},
    )
