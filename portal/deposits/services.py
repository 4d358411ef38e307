"""Depositing an invoice: written ahead, then sent to OneConnect, its outcome recorded."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounting.entries import EntryLine, balance, entries_payload
from portal.catalogue import gettext as _
from portal.deposits import counterparties
from portal.deposits.delivery import claimable
from portal.extensions import db
from portal.i18n import format_when
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    Draft,
    InvoiceKind,
    Organization,
    User,
    utcnow,
)
from portal.notices import Notice
from portal.organizations.services import organization_revoked_message


class DepositRefused(Exception):
    """The deposit cannot be accepted; `field` names the form field to show it on, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DepositCommand:
    kind: InvoiceKind
    draft: Draft  # the checked file, already in storage: it becomes the deposit's
    user_email: str | None
    comment: str | None
    external_reference: str | None
    generated_reference: str | None = None  # made when the form was shown, used when blank
    lines: list[EntryLine] = field(default_factory=list)
    counterparty: dict[str, Any] | None = None  # the API's `organization` part
    correction_of: Deposit | None = None  # the refused deposit this one corrects
    # The generated reference is one of several made from the form's (one file of several).
    generated_reference_derived: bool = False


def generate_reference(now: datetime | None = None) -> str:
    """A reference of our own: unique, and valid for the API (letters, digits, `-`)."""
    moment = now or utcnow()
    return f"OCP-{moment:%Y%m%d}-{secrets.token_hex(6).upper()}"


def queue_deposit(organization: Organization, command: DepositCommand, *, actor: User) -> Deposit:
    """Commit the deposit as Queued with its draft's file (already flushed to storage), before
    anything goes upstream. The draft is marked used by it.

    Raises DepositRefused when the organization is revoked or a typed reference already used
    here, and DraftAlreadyUsed when this same form already made the deposit.
    """
    if not organization.is_active:
        raise DepositRefused(str(revoked_message(organization.revocation_reason)))
    reference = _reference_for(organization, command)
    draft = command.draft
    totals = balance(command.lines) if command.lines else None
    deposit = Deposit(
        organization=organization,
        kind=command.kind,
        file_name=draft.file_name,
        file_size=draft.file_size,
        media_type=draft.media_type,
        sha256=draft.sha256,
        storage_key=draft.storage_key,
        active_content=draft.active_content,
        user_email=command.user_email or actor.email,
        comment=command.comment or None,
        external_reference=reference,
        external_reference_generated=not command.external_reference,
        entries=entries_payload(command.lines),
        counterparty=command.counterparty,
        counterparty_name=(command.counterparty or {}).get("name"),
        total_debit=totals.debit if totals is not None else None,
        invoice_date=min((line.date for line in command.lines), default=None),
        correction_of=command.correction_of,
        # Only a proposal the user saw travels with the deposit, for staff to compare.
        reading=draft.reading if draft.reading and draft.reading.get("proposal") else None,
        created_by=actor,
        queued_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    deposit.events.append(DepositEvent(kind=DepositEventKind.QUEUED, actor_id=actor.id))
    db.session.add(deposit)
    try:
        db.session.flush()
        if not _adopt(draft, deposit):
            raise DraftAlreadyUsed(draft)
        audit.record(
            audit.DEPOSIT_CREATED,
            actor=actor,
            organization=organization,
            target=deposit,
            detail={"file": deposit.file_name, "externalReference": reference},
        )
        counterparties.remember(organization, command.counterparty)
        db.session.commit()
    except DraftAlreadyUsed:
        db.session.rollback()  # a concurrent post of the same form made it first
        raise
    except IntegrityError as error:  # the same reference submitted twice at once
        db.session.rollback()  # the draft stays unused, its file kept for the next try
        if not command.external_reference:
            raise DraftAlreadyUsed(draft, reference) from error  # our reference: the same form
        raise DepositRefused(_reference_taken_message(reference), "external_reference") from error
    return deposit


class DraftAlreadyUsed(Exception):
    """Another request adopted this draft, or deposited these bytes from this form (the same
    form posted twice at once); `earlier` is that deposit, once it can be seen."""

    def __init__(self, draft: Draft, reference: str | None = None) -> None:
        super().__init__(draft.token)
        self.draft = draft
        self.reference = reference

    def earlier(self, organization: Organization) -> Deposit | None:
        db.session.refresh(self.draft)
        if self.draft.deposit is not None:
            return self.draft.deposit
        return _reference_used(organization, self.reference) if self.reference else None


def _adopt(draft: Draft, deposit: Deposit) -> bool:
    """The draft's file becomes the deposit's, unless another deposit took it first."""
    adopted = db.session.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.deposit_id.is_(None))
        .values(deposit_id=deposit.id)
        .execution_options(synchronize_session=False)
    )
    return adopted.rowcount == 1


def _reference_for(organization: Organization, command: DepositCommand) -> str:
    """The typed reference (refused if used before), else the one made with the form, else a new
    one: a form restored by Back and sent with another invoice gets a reference of its own."""
    if command.external_reference:
        _ensure_reference_unused(organization, command.external_reference)
        return command.external_reference
    generated = command.generated_reference
    if generated and _reference_used(organization, generated) is None:
        return generated
    if generated and command.generated_reference_derived:
        # One file of several: its reference follows from the form's and its own bytes, so the
        # same form posted twice at once collides on it instead of sending the file twice.
        raise DraftAlreadyUsed(command.draft, generated)
    return generate_reference()


def _reference_used(organization: Organization, reference: str) -> Deposit | None:
    return db.session.scalars(
        select(Deposit).where(
            Deposit.organization_id == organization.id, Deposit.external_reference == reference
        )
    ).first()


def _ensure_reference_unused(organization: Organization, reference: str) -> None:
    existing = _reference_used(organization, reference)
    if existing is not None:
        raise DepositRefused(
            _(
                "You already used the reference %(reference)s for “%(file)s” on %(date)s. "
                "Choose another reference, or leave it blank.",
                reference=reference,
                file=existing.file_name,
                date=format_when(existing.created_at),
            ),
            "external_reference",
        )


def _reference_taken_message(reference: str) -> str:
    return _("The reference %(reference)s is already used. Choose another.", reference=reference)


def revoked_message(reason: str | None) -> Notice:
    return organization_revoked_message(reason)


def corrections_of(deposit: Deposit, visible: Select[tuple[Deposit]]) -> list[Deposit]:
    """The deposits made to correct this one, oldest first, among those the reader may see."""
    return list(
        db.session.scalars(
            visible.where(Deposit.correction_of_id == deposit.id).order_by(Deposit.id)
        )
    )


def can_retry(deposit: Deposit) -> bool:
    """A failed deposit, or a queued one waiting for its next attempt, can be sent now."""
    waiting = deposit.status is DepositStatus.QUEUED and deposit.attempts > 0
    return deposit.organization.is_active and (waiting or deposit.status is DepositStatus.FAILED)


def request_retry(deposit: Deposit, *, actor: User) -> bool:
    """Queue a failed (or waiting) deposit for an attempt now, with a new 24-hour window.

    The same reference is sent again, so it cannot become two documents upstream. Commits;
    False when its state changed meanwhile (another retry, a webhook).
    """
    now = utcnow()
    result = db.session.execute(
        update(Deposit)
        .where(
            Deposit.id == deposit.id,
            or_(
                Deposit.status == DepositStatus.FAILED,
                and_(Deposit.status == DepositStatus.QUEUED, claimable(now)),
            ),
        )
        .values(status=DepositStatus.QUEUED, queued_at=now, next_attempt_at=now)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.add(
        DepositEvent(
            deposit_id=deposit.id, kind=DepositEventKind.RETRY_REQUESTED, actor_id=actor.id
        )
    )
    audit.record(
        audit.DEPOSIT_RETRIED, actor=actor, organization=deposit.organization, target=deposit
    )
    db.session.commit()
    return True
