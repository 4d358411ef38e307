"""Depositing an invoice: written ahead, then sent to OneConnect, its outcome recorded."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounting.entries import EntryLine, entries_payload
from portal.deposits.files import InspectedFile
from portal.deposits.storage import FileStore
from portal.encryption import SecretBox
from portal.extensions import db
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    InvoiceKind,
    Organization,
    User,
    utcnow,
)
from portal.oneconnect import errors as upstream
from portal.oneconnect.client import OneConnectClient
from portal.organizations.services import mark_revoked
from portal.webhooks.services import apply_waiting_events


class DepositRefused(Exception):
    """The deposit cannot be accepted; `field` names the form field to show it on, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DepositCommand:
    kind: InvoiceKind
    stream: BinaryIO
    file: InspectedFile
    user_email: str | None
    comment: str | None
    external_reference: str | None
    generated_reference: str | None = None  # made when the form was shown, used when blank
    lines: list[EntryLine] = field(default_factory=list)
    counterparty: dict[str, Any] | None = None  # the API's `organization` part


def generate_reference(now: datetime | None = None) -> str:
    """A reference of our own: unique, and valid for the API (letters, digits, `-`)."""
    moment = now or utcnow()
    return f"OCP-{moment:%Y%m%d}-{secrets.token_hex(6).upper()}"


def queue_deposit(
    organization: Organization, command: DepositCommand, *, actor: User, store: FileStore
) -> Deposit:
    """Store the file (flushed) and commit the deposit as Queued, before anything goes upstream.

    Raises DepositRefused when the organization is revoked or the reference already used here.
    """
    if not organization.is_active:
        raise DepositRefused(revoked_message(organization.revocation_reason))
    reference = command.external_reference or command.generated_reference or generate_reference()
    _ensure_reference_unused(organization, reference)
    key = store.save(command.stream)
    deposit = Deposit(
        organization=organization,
        kind=command.kind,
        file_name=command.file.display_name,
        file_size=command.file.size,
        media_type=command.file.media_type,
        sha256=command.file.sha256,
        storage_key=key,
        active_content=command.file.active_content,
        user_email=command.user_email or actor.email,
        comment=command.comment or None,
        external_reference=reference,
        external_reference_generated=not command.external_reference,
        entries=entries_payload(command.lines),
        counterparty=command.counterparty,
        created_by=actor,
    )
    deposit.events.append(DepositEvent(kind=DepositEventKind.QUEUED, actor_id=actor.id))
    db.session.add(deposit)
    try:
        db.session.commit()
    except IntegrityError as error:  # the same reference submitted twice at once
        db.session.rollback()
        store.delete(key)
        raise DepositRefused(_reference_taken_message(reference), "external_reference") from error
    return deposit


RESUBMISSION_WINDOW = timedelta(hours=1)


def find_resubmission(
    organization: Organization, reference: str | None, actor: User
) -> Deposit | None:
    """The deposit this same form already made (a second click on Send), if any."""
    if not reference:
        return None
    return db.session.scalars(
        select(Deposit).where(
            Deposit.organization_id == organization.id,
            Deposit.external_reference == reference,
            Deposit.created_by_id == actor.id,
            Deposit.created_at > utcnow() - RESUBMISSION_WINDOW,
        )
    ).first()


def _ensure_reference_unused(organization: Organization, reference: str) -> None:
    existing = db.session.scalars(
        select(Deposit).where(
            Deposit.organization_id == organization.id, Deposit.external_reference == reference
        )
    ).first()
    if existing is not None:
        raise DepositRefused(
            _(
                "You already used the reference %(reference)s for “%(file)s” on %(date)s. "
                "Choose another reference, or leave it blank.",
                reference=reference,
                file=existing.file_name,
                date=format_datetime(existing.created_at, "short"),
            ),
            "external_reference",
        )


def _reference_taken_message(reference: str) -> str:
    return _("The reference %(reference)s is already used. Choose another.", reference=reference)


def revoked_message(reason: str | None) -> str:
    return _(
        "This organization's OneConnect integration was revoked (%(reason)s). Reconnect it "
        "with a new Integration ID and secret from your accountant's invitation.",
        reason=reason or _("no reason given"),
    )


def send_deposit(
    deposit: Deposit, *, client: OneConnectClient, secret_box: SecretBox, store: FileStore
) -> Deposit:
    """Send a queued deposit to OneConnect once and record the outcome; commits.

    A transient failure leaves it Queued with the error; every other answer is final.
    """
    organization = deposit.organization
    if not organization.is_active:
        _fail(deposit, revoked_message(organization.revocation_reason))
        db.session.commit()
        return deposit
    # A 409 after an attempt that ended without an answer may be that attempt's own document.
    earlier_answer_lost = any(e.kind is DepositEventKind.ATTEMPT_FAILED for e in deposit.events)
    deposit.attempts += 1
    db.session.commit()  # the attempt is on record before the call, whatever happens to us
    try:
        with store.open(deposit.storage_key) as stream:
            result = client.import_invoice(
                organization.integration_id,
                secret_box.decrypt(organization.integration_secret_encrypted),
                deposit.kind.value,
                file=stream,
                filename=deposit.file_name,
                media_type=deposit.media_type,
                user_email=deposit.user_email,
                comment=deposit.comment,
                external_reference=deposit.external_reference,
                entries=deposit.entries,
                organization=deposit.counterparty,
            )
    except upstream.DuplicateReference as duplicate:
        _record_duplicate(deposit, duplicate, earlier_answer_lost)
    except upstream.IntegrationRevoked as revoked:
        mark_revoked(organization, revoked.reason)
        _fail(deposit, revoked_message(revoked.reason))
    except upstream.ValidationFailed as invalid:
        _fail(
            deposit,
            _("OneConnect refused the deposit: %(detail)s", detail=invalid.detail or invalid),
        )
    except upstream.AuthenticationFailed:
        _fail(
            deposit,
            _(
                "OneConnect did not accept this organization's credentials. Reconnect the "
                "organization with its current Integration ID and secret, then retry."
            ),
        )
    except upstream.IntegrationNotFound:
        _fail(deposit, _("OneConnect does not know this organization's integration any more."))
    except upstream.TransientError as transient:
        deposit.last_error = _(
            "OneConnect could not be reached (%(detail)s). The invoice is kept and can be sent again.",
            detail=transient,
        )
        deposit.events.append(
            DepositEvent(kind=DepositEventKind.ATTEMPT_FAILED, message=deposit.last_error)
        )
    except upstream.OneConnectError as unexpected:
        _fail(deposit, _("OneConnect gave an unexpected answer: %(detail)s", detail=unexpected))
    else:
        _record_sent(deposit, result.document_id)
    db.session.commit()
    if deposit.status is DepositStatus.SENT:
        apply_waiting_events(deposit)
    return deposit


def _record_sent(deposit: Deposit, document_id: str, note: str | None = None) -> None:
    deposit.status = DepositStatus.SENT
    deposit.document_id = document_id
    deposit.sent_at = utcnow()
    deposit.last_error = None
    deposit.events.append(DepositEvent(kind=DepositEventKind.SENT, message=note))


def _record_duplicate(
    deposit: Deposit, duplicate: upstream.DuplicateReference, after_lost_answer: bool
) -> None:
    if after_lost_answer and duplicate.document_id:
        # Our earlier attempt reached OneConnect but its answer was lost: this is our document.
        _record_sent(
            deposit,
            duplicate.document_id,
            _("An earlier attempt had reached OneConnect; its document was recognised."),
        )
        return
    deposit.status = DepositStatus.DUPLICATE
    deposit.document_id = duplicate.document_id
    deposit.deposit_date = duplicate.deposit_date
    deposit.last_error = duplicate_message(deposit)
    deposit.events.append(DepositEvent(kind=DepositEventKind.DUPLICATE, message=deposit.last_error))


def duplicate_message(deposit: Deposit) -> str:
    when = (
        format_datetime(deposit.deposit_date, "short")
        if deposit.deposit_date
        else _("an unknown date")
    )
    return _(
        "OneConnect already has a document with the reference %(reference)s "
        "(document %(document)s, deposited on %(date)s). Nothing was sent again.",
        reference=deposit.external_reference,
        document=deposit.document_id or _("unknown"),
        date=when,
    )


def _fail(deposit: Deposit, message: str) -> None:
    deposit.status = DepositStatus.FAILED
    deposit.last_error = message
    deposit.events.append(DepositEvent(kind=DepositEventKind.FAILED, message=message))


def can_retry(deposit: Deposit) -> bool:
    waiting = deposit.status is DepositStatus.QUEUED and deposit.attempts > 0
    return deposit.organization.is_active and (waiting or deposit.status is DepositStatus.FAILED)


def request_retry(deposit: Deposit, *, actor: User) -> None:
    """Put a failed deposit back in the queue (same reference: it cannot be duplicated upstream)."""
    deposit.status = DepositStatus.QUEUED
    deposit.events.append(DepositEvent(kind=DepositEventKind.RETRY_REQUESTED, actor_id=actor.id))
    db.session.commit()
