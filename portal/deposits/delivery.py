"""Delivering a queued deposit to OneConnect: claims (leases), attempts, their outcomes and
the retry policy. The deposit's own lifecycle (received, retried) is in services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context
from sqlalchemy import ColumnElement, func, select, update

from portal import leases, notices
from portal.deposits.storage import FileStore
from portal.encryption import SecretBox
from portal.extensions import db
from portal.mail import notifications
from portal.models import Deposit, DepositEvent, DepositEventKind, DepositStatus, utcnow
from portal.notices import Notice
from portal.oneconnect import errors as upstream
from portal.oneconnect.client import OneConnectClient
from portal.organizations.services import mark_revoked, organization_revoked_message
from portal.webhooks.services import apply_waiting_events

# A deposit is sent by whoever holds its claim: the request that made it (at once, with a short
# timeout) or a worker (later, with backoff). A claim is a lease: if its holder dies, another
# takes the deposit over once the lease has expired. Outcomes are written only while the claim
# still holds and the deposit is still queued, so a slow attempt never overwrites a newer state.

DELIVERY_WINDOW = timedelta(hours=24)
# Longer than the longest attempt can last (token fetch and import, each retried once on a 401,
# with their timeouts), so a live sender never loses its claim in the middle of a call.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Upload:
    """What one attempt sends, copied out of the session so no transaction stays open."""

    integration_id: str
    secret: str
    kind: str
    storage_key: str
    file_name: str
    media_type: str
    user_email: str | None
    comment: str | None
    external_reference: str
    entries: dict[str, Any] | None
    counterparty: dict[str, Any] | None


def claimable(now: datetime) -> ColumnElement[bool]:
    return leases.claimable(Deposit, DepositStatus.QUEUED, now)


def claim_deposit(deposit_id: int, owner: str) -> str | None:
    """Claim one queued deposit now (due or not); returns the claim, or None if someone holds it."""
    now = utcnow()
    claim = leases.new_claim(owner)
    result = db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id, claimable(now))
        .values(claimed_by=claim, claim_expires_at=now + LEASE)
    )
    db.session.commit()
    return claim if result.rowcount == 1 else None


def claim_due(owner: str, limit: int = 1) -> list[tuple[int, str]]:
    """Claim up to `limit` deposits whose next attempt is due; commits (see portal.leases)."""
    return leases.claim_due(Deposit, DepositStatus.QUEUED, owner, limit=limit, lease=LEASE)


def deliver(
    deposit_id: int,
    claim: str,
    *,
    client: OneConnectClient,
    secret_box: SecretBox,
    store: FileStore,
    read_timeout: float | None = None,
) -> Deposit | None:
    """Make one attempt for a deposit this caller has claimed, and record its outcome.

    Commits twice: the attempt before the call (so a crash is visible), the outcome after it.
    Transient failures schedule the next attempt with backoff within DELIVERY_WINDOW; every other
    answer is final. Returns the deposit, or None when the claim was lost.
    """
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    if deposit is None or deposit.claimed_by != claim or deposit.status is not DepositStatus.QUEUED:
        db.session.rollback()
        return None
    now = utcnow()
    if not deposit.organization.is_active:
        _fail(deposit, organization_revoked_message(deposit.organization.revocation_reason))
        return _release(deposit)
    if deposit.queued_at is not None and now >= deposit.queued_at + DELIVERY_WINDOW:
        _fail(deposit, _expired_message(deposit))
        return _release(deposit)
    upload = _upload_of(deposit, secret_box)
    if deposit.answer_pending:  # the previous attempt died without recording its outcome
        deposit.maybe_delivered = True
    deposit.answer_pending = True
    deposit.attempts += 1
    db.session.commit()  # no transaction stays open during the call

    outcome = _attempt(upload, client, store, read_timeout)

    if not leases.renew(Deposit, deposit_id, claim, LEASE):
        # Our lease ran out and another sender took over: its outcome is the one that counts.
        db.session.rollback()
        return None
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    _record_outcome(deposit, outcome)
    return _release(deposit)


def _upload_of(deposit: Deposit, secret_box: SecretBox) -> _Upload:
    organization = deposit.organization
    return _Upload(
        integration_id=organization.integration_id,
        secret=secret_box.decrypt(organization.integration_secret_encrypted),
        kind=deposit.kind.value,
        storage_key=deposit.storage_key,
        file_name=deposit.file_name,
        media_type=deposit.media_type,
        user_email=deposit.user_email,
        comment=deposit.comment,
        external_reference=deposit.external_reference,
        entries=deposit.entries,
        counterparty=deposit.counterparty,
    )


def _attempt(
    upload: _Upload, client: OneConnectClient, store: FileStore, read_timeout: float | None
) -> str | upstream.OneConnectError:
    """The documentId OneConnect gave, or the error it raised."""
    try:
        with store.open(upload.storage_key) as stream:
            result = client.import_invoice(
                upload.integration_id,
                upload.secret,
                upload.kind,
                file=stream,
                filename=upload.file_name,
                media_type=upload.media_type,
                user_email=upload.user_email,
                comment=upload.comment,
                external_reference=upload.external_reference,
                entries=upload.entries,
                organization=upload.counterparty,
                read_timeout=read_timeout,
            )
    except upstream.OneConnectError as error:
        return error
    except OSError as error:  # the stored file is gone or unreadable: nothing can be sent
        return StoredFileUnreadable(str(error))
    return result.document_id


class StoredFileUnreadable(upstream.OneConnectError):
    """Not an upstream answer: the portal could not read the invoice it stored."""


def _record_outcome(deposit: Deposit, outcome: str | upstream.OneConnectError) -> None:
    # Waiting for OneConnect to accept our partner credentials again is waiting, as for an outage.
    transient = isinstance(outcome, upstream.TransientError | upstream.PartnerCredentialsRefused)
    deposit.answer_pending = False
    if isinstance(outcome, upstream.TransientError | upstream.UnexpectedResponse):
        # The import may have been carried out even though we could not read the answer.
        deposit.maybe_delivered = True
    if deposit.status is not DepositStatus.QUEUED:
        # A webhook decided while we waited (our earlier attempt had reached OneConnect).
        if isinstance(outcome, str) and deposit.document_id is None:
            deposit.document_id = outcome
        return
    if isinstance(outcome, str):
        _record_sent(deposit, outcome)
    elif isinstance(outcome, upstream.DuplicateReference):
        _record_duplicate(deposit, outcome)
    elif isinstance(outcome, upstream.IntegrationRevoked):
        mark_revoked(  # fails this deposit and every other queued one
            deposit.organization,
            outcome.reason,
            source="import answer",
            detail={"errorCode": outcome.error_code},
        )
    elif transient:
        _schedule_retry(deposit, outcome)
    elif isinstance(outcome, upstream.ValidationFailed):
        cause = notices.text(outcome.detail) if outcome.detail else notices.of_error(outcome)
        _fail(deposit, Notice("deposit.refused_by_oneconnect", {"cause": cause.as_data()}))
    elif isinstance(outcome, upstream.AuthenticationFailed):
        _fail(deposit, Notice("deposit.credentials_refused"))
    elif isinstance(outcome, upstream.IntegrationNotFound):
        _fail(deposit, Notice("deposit.integration_unknown"))
    elif isinstance(outcome, StoredFileUnreadable):
        _fail(deposit, Notice("deposit.file_unreadable"))
    else:
        cause = notices.of_error(outcome)
        _fail(deposit, Notice("deposit.unexpected_answer", {"cause": cause.as_data()}))


def _schedule_retry(deposit: Deposit, error: upstream.OneConnectError) -> None:
    now = utcnow()
    deadline = (deposit.queued_at or now) + DELIVERY_WINDOW
    if now >= deadline:
        _fail(deposit, _expired_message(deposit, error))
        return
    delay = retry_delay(deposit.attempts, getattr(error, "retry_after", None))
    # A long Retry-After still leaves one last attempt at the end of the window.
    deposit.next_attempt_at = min(now + timedelta(seconds=delay), deadline)
    cause = notices.of_error(error)
    deposit.last_error = Notice("deposit.waiting", {"cause": cause.as_data()})
    deposit.events.append(
        DepositEvent(
            kind=DepositEventKind.ATTEMPT_FAILED,
            message=cause,
            next_attempt_at=deposit.next_attempt_at,
        )
    )


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt (see portal.leases.retry_delay)."""
    return leases.retry_delay(attempts, retry_after)


def _expired_message(deposit: Deposit, error: upstream.OneConnectError | None = None) -> Notice:
    if error is not None:
        cause: Notice | None = notices.of_error(error)
    else:  # the waiting notice's cause is the last error seen
        waiting = deposit.last_error
        nested = waiting.params.get("cause") if waiting is not None else None
        cause = Notice.from_data(nested) if nested else None
    if cause is None:
        return Notice("deposit.expired_unknown")
    return Notice("deposit.expired", {"cause": cause.as_data()})


def _release(deposit: Deposit) -> Deposit:
    deposit.claimed_by = None
    deposit.claim_expires_at = None
    db.session.commit()
    if deposit.status is DepositStatus.SENT:
        apply_waiting_events(deposit)
    return deposit


def _record_sent(deposit: Deposit, document_id: str, note: Notice | None = None) -> None:
    deposit.status = DepositStatus.SENT
    deposit.document_id = document_id
    deposit.sent_at = utcnow()
    deposit.last_error = None
    deposit.next_attempt_at = None
    deposit.events.append(DepositEvent(kind=DepositEventKind.SENT, message=note))


def _record_duplicate(deposit: Deposit, duplicate: upstream.DuplicateReference) -> None:
    if deposit.maybe_delivered and duplicate.document_id:
        # An earlier attempt reached OneConnect but its answer was lost: this is our document.
        _record_sent(deposit, duplicate.document_id, Notice("deposit.recognised"))
        return
    deposit.status = DepositStatus.DUPLICATE
    deposit.document_id = duplicate.document_id
    deposit.deposit_date = duplicate.deposit_date
    deposit.next_attempt_at = None
    deposit.last_error = duplicate_message(deposit)
    deposit.events.append(DepositEvent(kind=DepositEventKind.DUPLICATE, message=deposit.last_error))


def duplicate_message(deposit: Deposit) -> Notice:
    params = {"reference": deposit.external_reference, "document": deposit.document_id}
    if deposit.deposit_date is None:
        return Notice("deposit.duplicate_undated", params)
    return Notice("deposit.duplicate", {**params, "deposited_at": deposit.deposit_date.isoformat()})


def _fail(deposit: Deposit, message: Notice) -> None:
    deposit.status = DepositStatus.FAILED
    deposit.last_error = message
    deposit.next_attempt_at = None
    deposit.events.append(DepositEvent(kind=DepositEventKind.FAILED, message=message))
    # Decided in the background (the sender, after retries): the depositor is told by e-mail.
    # A first attempt failing while its depositor waits on the page is shown there instead.
    if not has_request_context():
        notifications.deposit_failed(deposit, message)


@dataclass(frozen=True)
class QueueStats:
    depth: int
    oldest: Deposit | None  # the deposit waiting longest to be sent


def queue_stats() -> QueueStats:
    """How many deposits wait to be sent, and which has waited longest."""
    waiting = Deposit.status == DepositStatus.QUEUED
    depth = db.session.scalar(select(func.count(Deposit.id)).where(waiting)) or 0
    oldest = db.session.scalars(
        select(Deposit).where(waiting).order_by(Deposit.queued_at, Deposit.id).limit(1)
    ).first()
    return QueueStats(depth=depth, oldest=oldest)
