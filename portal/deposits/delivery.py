"""Delivering a queued deposit to OneConnect: claims (leases), attempts, their outcomes and
the retry policy. The deposit's own lifecycle (received, retried) is in services."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import DBAPIError

from portal import leases, notices
from portal.deposits.storage import StorageUnavailable, Store
from portal.encryption import SecretBox, SecretUnreadable
from portal.extensions import db
from portal.mail import notifications
from portal.models import Deposit, DepositEvent, DepositEventKind, DepositStatus, utcnow
from portal.models.deposits import ATTEMPT_BY
from portal.notices import Notice
from portal.observability.counters import ATTEMPTS, RECOGNISED
from portal.observability.readiness import upstream_contact
from portal.oneconnect import errors as upstream
from portal.oneconnect.client import OneConnectClient
from portal.organizations.services import mark_revoked, organization_revoked_message
from portal.webhooks.services import apply_waiting_events

log = logging.getLogger(__name__)

# A deposit is sent by whoever holds its claim: the request that made it (at once, within a few
# seconds) or a worker (later, with backoff). A claim is a lease: if its holder dies, another
# takes the deposit over once the lease has expired. Every attempt, token fetch included, ends
# LEASE_MARGIN before its lease does, so a live sender never loses its claim in the middle of a
# call. Outcomes are written only while the claim still holds and the deposit is still queued,
# so a slow attempt never overwrites a newer state.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class Timing:
    """The sender's settings (README, "Configuration")."""

    lease: timedelta
    window: timedelta
    retry_ceiling: float

    @property
    def attempt_budget(self) -> float:
        """Seconds a sender's attempt may take, token fetch and import together."""
        return max((self.lease - LEASE_MARGIN).total_seconds(), 1.0)


def timing() -> Timing:
    config = current_app.config
    return Timing(
        lease=timedelta(seconds=float(config["SENDER_LEASE_SECONDS"])),
        window=timedelta(hours=float(config["DELIVERY_WINDOW_HOURS"])),
        retry_ceiling=float(config["RETRY_MAX_SECONDS"]),
    )


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


def claim_deposit(deposit_id: int, owner: str, budget: float | None = None) -> str | None:
    """Claim one queued deposit now (due or not) for an attempt of `budget` seconds (a sender's
    by default); returns the claim, or None if someone holds it."""
    now = utcnow()
    claim = leases.new_claim(owner)
    lease = timing().lease if budget is None else timedelta(seconds=budget) + LEASE_MARGIN
    result = db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id, claimable(now))
        .values(claimed_by=claim, claim_expires_at=now + lease)
    )
    db.session.commit()
    return claim if result.rowcount == 1 else None


def claim_due(owner: str, limit: int = 1) -> list[tuple[int, str]]:
    """Claim up to `limit` deposits whose next attempt is due; commits (see portal.leases)."""
    return leases.claim_due(Deposit, DepositStatus.QUEUED, owner, limit=limit, lease=timing().lease)


def deliver(
    deposit_id: int,
    claim: str,
    *,
    client: OneConnectClient,
    secret_box: SecretBox,
    store: Store,
    budget: float | None = None,
) -> Deposit | None:
    """Make one attempt for a deposit this caller has claimed, and record its outcome.

    Commits twice: the attempt before the call (so a crash is visible), the outcome after it.
    Transient failures schedule the next attempt with backoff within the delivery window; every
    other answer is final, and so is an error of the portal's own (a clear Failed, never a day of
    silent retries). `budget` bounds the attempt (the claim's; a sender's by default). Returns
    the deposit, or None when the claim was lost. Raises only when the database fails.
    """
    made_by = ATTEMPT_BY.set(leases.owner_of(claim))
    try:
        return _deliver(deposit_id, claim, client, secret_box, store, budget)
    except DBAPIError:
        db.session.rollback()
        raise  # the database is down: the lease runs out and the deposit is tried again
    except Exception:
        db.session.rollback()
        log.exception(
            "deposit %s: the attempt failed with an error of the portal's own", deposit_id
        )
        return _fail_on_internal_error(deposit_id, claim)
    finally:
        ATTEMPT_BY.reset(made_by)


def _deliver(
    deposit_id: int,
    claim: str,
    client: OneConnectClient,
    secret_box: SecretBox,
    store: Store,
    budget: float | None,
) -> Deposit | None:
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    if deposit is None or deposit.claimed_by != claim or deposit.status is not DepositStatus.QUEUED:
        db.session.rollback()
        return None
    now = utcnow()
    settings = timing()
    if not deposit.organization.is_active:
        _fail(deposit, organization_revoked_message(deposit.organization.revocation_reason))
        return _release(deposit)
    if deposit.queued_at is not None and now >= deposit.queued_at + settings.window:
        _fail(deposit, _expired_message(deposit))
        return _release(deposit)
    try:
        upload = _upload_of(deposit, secret_box)
    except SecretUnreadable:  # the key that encrypted it is no longer among PORTAL_ENCRYPTION_KEYS
        log.error("deposit %s: the integration secret cannot be decrypted", deposit_id)
        _fail(deposit, Notice("deposit.secret_unreadable"))
        return _release(deposit)
    if deposit.answer_pending:  # the previous attempt died without recording its outcome
        deposit.maybe_delivered = True
    deposit.answer_pending = True
    deposit.attempts += 1
    db.session.commit()  # no transaction stays open during the call

    started = time.perf_counter()
    outcome = _attempt(upload, client, store, budget or settings.attempt_budget)
    _observe(deposit_id, deposit.attempts, outcome, time.perf_counter() - started, claim)

    if not leases.renew(Deposit, deposit_id, claim, settings.lease):
        # Our lease ran out and another sender took over: its outcome is the one that counts.
        db.session.rollback()
        return None
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    _record_outcome(deposit, outcome)
    return _release(deposit)


def _observe(
    deposit_id: int,
    attempt: int,
    outcome: str | upstream.OneConnectError,
    seconds: float,
    claim: str,
) -> None:
    """One log line and one count per attempt; whether OneConnect answered, for readiness."""
    name = "sent" if isinstance(outcome, str) else outcome.code
    status = None if isinstance(outcome, str) else outcome.status
    ATTEMPTS.labels(outcome=name).inc()
    if not isinstance(outcome, StoredFileUnreadable | FileStoreUnavailable):
        upstream_contact(ok=not isinstance(outcome, upstream.TransientError))
    log.info(
        "delivery attempt",
        extra={
            "deposit_id": deposit_id,
            "attempt": attempt,
            "outcome": name,
            "upstream_status": status,
            "duration_ms": round(seconds * 1000, 1),
            "worker": leases.owner_of(claim),
        },
    )


def _fail_on_internal_error(deposit_id: int, claim: str) -> Deposit | None:
    """Fail the deposit we hold after an error of our own; the answer, if one came, is lost, so
    the deposit may have been delivered and still takes the firm's decision."""
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    if deposit is None or deposit.claimed_by != claim or deposit.status is not DepositStatus.QUEUED:
        db.session.rollback()
        return None
    if deposit.answer_pending:
        deposit.answer_pending = False
        deposit.maybe_delivered = True
    _fail(deposit, Notice("deposit.internal_error", {"reference": deposit.external_reference}))
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
    upload: _Upload, client: OneConnectClient, store: Store, budget: float
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
                budget=budget,
            )
    except upstream.OneConnectError as error:
        return error
    except StorageUnavailable as error:  # the file store is down: nothing was sent, wait
        return FileStoreUnavailable(str(error), code="storage_unavailable")
    except OSError as error:  # the stored file is gone or unreadable: nothing can be sent
        return StoredFileUnreadable(str(error))
    return result.document_id


class StoredFileUnreadable(upstream.OneConnectError):
    """Not an upstream answer: the portal could not read the invoice it stored."""


class FileStoreUnavailable(upstream.OneConnectError):
    """Not an upstream answer: the file store could not be reached; tried again later."""


def _record_outcome(deposit: Deposit, outcome: str | upstream.OneConnectError) -> None:
    # Waiting for OneConnect to accept our partner credentials again is waiting, as for an outage.
    transient = isinstance(
        outcome,
        upstream.TransientError | upstream.PartnerCredentialsRefused | FileStoreUnavailable,
    )
    deposit.answer_pending = False
    if isinstance(outcome, upstream.TransientError | upstream.UnexpectedResponse):
        # The import may have been carried out even though we could not read the answer.
        deposit.maybe_delivered = True
    if deposit.status is not DepositStatus.QUEUED:
        # A webhook decided while we waited (our earlier attempt had reached OneConnect).
        if isinstance(outcome, str) and deposit.document_id is None:
            deposit.document_id = outcome
        return
    if not transient and not isinstance(outcome, StoredFileUnreadable):
        # OneConnect answers again: whatever of this integration waits may go now.
        pull_forward(deposit.organization_id)
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
    settings = timing()
    deadline = (deposit.queued_at or now) + settings.window
    if now >= deadline:
        _fail(deposit, _expired_message(deposit, error))
        return
    delay = leases.retry_delay(
        deposit.attempts, getattr(error, "retry_after", None), ceiling=settings.retry_ceiling
    )
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
        RECOGNISED.inc()
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


def pull_forward(organization_id: int | None = None) -> int:
    """Make every deposit waiting for its next attempt due now (of one organization, or all);
    returns how many. Once OneConnect answers again after an outage, what the outage held back
    goes in seconds instead of at the end of each deposit's backoff."""
    now = utcnow()
    waiting = [
        Deposit.status == DepositStatus.QUEUED,
        Deposit.attempts > 0,
        Deposit.next_attempt_at > now,
    ]
    if organization_id is not None:
        waiting.append(Deposit.organization_id == organization_id)
    pulled = db.session.execute(
        update(Deposit)
        .where(*waiting)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return pulled.rowcount


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
