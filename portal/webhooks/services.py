"""Applying OneConnect's events: document decisions and revocations, idempotent and ordered."""

from __future__ import annotations

import json

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal import notices
from portal.extensions import db
from portal.mail import notifications
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    Organization,
    ProcessingOutcome,
    WebhookEvent,
    utcnow,
)
from portal.notices import Notice
from portal.oneconnect import spec
from portal.oneconnect.webhooks import CloudEvent
from portal.organizations.services import mark_revoked

# Decisions apply to deposits that reached OneConnect (or may have: a Failed one whose answer
# was lost); a Duplicate names someone else's document, whose decisions are not ours.
_DECIDABLE = or_(
    Deposit.status.in_(
        (DepositStatus.QUEUED, DepositStatus.SENT, DepositStatus.ACCEPTED, DepositStatus.REFUSED)
    ),
    and_(Deposit.status == DepositStatus.FAILED, Deposit.maybe_delivered.is_(True)),
)

# Two decisions at the same instant: Refused wins over Accepted (CONTRACT.md), then the larger id.
_DECISION_RANK = {DepositStatus.ACCEPTED: 0, DepositStatus.REFUSED: 1}


class DuplicateEvent(Exception):
    """This event id was stored before: the delivery is a repeat and changes nothing."""


def record_event(event: CloudEvent, body: bytes, verification: Notice) -> WebhookEvent:
    """Store a verified event and apply it, in one transaction (committed).

    Raises DuplicateEvent for an id seen before (nothing changes), or SQLAlchemyError when the
    database cannot take it (nothing is stored: OneConnect will deliver it again).
    """
    data = event.data
    stored = WebhookEvent(
        event_id=event.id,
        type=event.type,
        event_time=event.time,
        body=body.decode("utf-8", errors="replace"),
        verification=verification,
        integration_id=_text(data.get("integrationId")),
        document_id=_text(data.get("documentId")),
    )
    db.session.add(stored)
    try:
        db.session.flush()  # written first: a concurrent repeat waits for it, then fails on the id
    except IntegrityError as error:
        db.session.rollback()
        raise DuplicateEvent(event.id) from error
    try:
        return process_event(stored)
    except Exception:
        db.session.rollback()
        raise


def process_event(stored: WebhookEvent) -> WebhookEvent:
    """Apply a stored event to the deposits and organizations it names; commits."""
    payload = json.loads(stored.body)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    if stored.type == spec.EVENT_DOCUMENT_STATUS:
        outcome, detail = _apply_document_status(stored, data)
    elif stored.type == spec.EVENT_REVOCATION:
        outcome, detail = _apply_revocation(data)
    else:
        outcome, detail = ProcessingOutcome.UNKNOWN_TYPE, None
    stored.outcome = outcome
    stored.outcome_detail = detail
    stored.processed_at = utcnow()
    db.session.commit()
    return stored


def apply_waiting_events(deposit: Deposit) -> None:
    """Apply decisions that arrived before the deposit's send was recorded (the webhook won
    the race); commits each one, oldest first."""
    if deposit.document_id is None:
        return
    waiting = db.session.scalars(
        select(WebhookEvent)
        .where(
            WebhookEvent.outcome == ProcessingOutcome.UNKNOWN_DOCUMENT,
            WebhookEvent.type == spec.EVENT_DOCUMENT_STATUS,
            WebhookEvent.document_id == deposit.document_id,
            func.lower(WebhookEvent.integration_id) == deposit.organization.integration_id.lower(),
        )
        .order_by(WebhookEvent.event_time, WebhookEvent.event_id)
    ).all()
    for event in waiting:
        process_event(event)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _find_deposit(data: dict[str, object]) -> Deposit | None:
    integration_id = _text(data.get("integrationId"))
    if integration_id is None:
        return None
    # Locked (on PostgreSQL) so two decisions for one deposit are ordered, not interleaved.
    query = (
        select(Deposit)
        .join(Organization)
        .where(
            func.lower(Organization.integration_id) == integration_id.lower(),
            _DECIDABLE,
        )
        .with_for_update(of=Deposit)
    )
    document_id = _text(data.get("documentId"))
    if document_id:
        found = db.session.scalars(query.where(Deposit.document_id == document_id)).first()
        if found is not None:
            return found
    reference = _text(data.get("externalReference"))
    if reference:
        # A decision can overtake the answer to our send: the reference (unique per
        # integration) names the deposit, provided we did try to send it.
        return db.session.scalars(
            query.where(
                Deposit.external_reference == reference,
                Deposit.attempts > 0,
                or_(Deposit.document_id.is_(None), Deposit.document_id == document_id),
            )
        ).first()
    return None


def _apply_document_status(
    stored: WebhookEvent, data: dict[str, object]
) -> tuple[ProcessingOutcome, Notice | None]:
    state = data.get("documentState")
    decision = {
        spec.DOCUMENT_ACCEPTED.lower(): DepositStatus.ACCEPTED,
        spec.DOCUMENT_REFUSED.lower(): DepositStatus.REFUSED,
    }.get(state.lower() if isinstance(state, str) else "")
    if decision is None:
        return ProcessingOutcome.ERROR, Notice("webhook.unknown_state", {"state": str(state)[:100]})
    deposit = _find_deposit(data)
    if deposit is None:
        return ProcessingOutcome.UNKNOWN_DOCUMENT, None
    stored.deposit_id = deposit.id
    if not _is_newer(stored, decision, deposit):
        return ProcessingOutcome.STALE, Notice(
            "webhook.stale", {"deposit_status": deposit.status.value}
        )
    reason = _rejection_reason(data)
    deposit.status = decision
    deposit.decided_at = utcnow()
    deposit.status_event_time = stored.event_time
    deposit.status_event_id = stored.event_id
    deposit.rejection_reason = reason if decision is DepositStatus.REFUSED else None
    if deposit.document_id is None:
        deposit.document_id = _text(data.get("documentId"))
    # Added by its key, not through `deposit.events`, which would load the whole story first.
    db.session.add(
        DepositEvent(
            deposit_id=deposit.id,
            kind=DepositEventKind.ACCEPTED
            if decision is DepositStatus.ACCEPTED
            else DepositEventKind.REFUSED,
            message=notices.text(reason) if decision is DepositStatus.REFUSED and reason else None,
        )
    )
    if decision is DepositStatus.REFUSED:
        notifications.invoice_refused(deposit)  # committed with the decision, once per deposit
    return ProcessingOutcome.APPLIED, None


def _rejection_reason(data: dict[str, object]) -> str | None:
    # The docs only say the member's name begins with "rejection": take ours, else any such.
    reason = _text(data.get(spec.REJECTION_REASON_MEMBER))
    if reason is None:
        for name, value in data.items():
            if name.lower().startswith("rejection") and (reason := _text(value)):
                break
    return reason


def _is_newer(stored: WebhookEvent, decision: DepositStatus, deposit: Deposit) -> bool:
    if deposit.status_event_time is None:
        return True
    if stored.event_time != deposit.status_event_time:
        return stored.event_time > deposit.status_event_time
    current = (_DECISION_RANK.get(deposit.status, -1), deposit.status_event_id or "")
    return (_DECISION_RANK[decision], stored.event_id) > current


def _apply_revocation(data: dict[str, object]) -> tuple[ProcessingOutcome, Notice | None]:
    integration_id = _text(data.get("integrationId"))
    organization = None
    if integration_id:
        organization = db.session.scalars(
            select(Organization).where(
                func.lower(Organization.integration_id) == integration_id.lower()
            )
        ).first()
    if organization is None:
        return ProcessingOutcome.UNKNOWN_DOCUMENT, Notice("webhook.unknown_integration")
    reason = _text(data.get(spec.REVOCATION_EVENT_REASON_MEMBER)) or _text(
        data.get(spec.REVOCATION_REASON_MEMBER)
    )
    mark_revoked(organization, reason, source="Revocation webhook")
    return ProcessingOutcome.APPLIED, None
