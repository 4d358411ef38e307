"""Claims on rows a sender works through (deposits to send, e-mails to send): leases taken
with a conditional UPDATE, and the retry policy they share.

A row is claimed by one sender for a lease; if that sender dies, another takes the row over once
the lease has expired. Candidates are locked with SKIP LOCKED on PostgreSQL so that concurrent
workers pass each other by; everywhere the claim itself is a conditional UPDATE, so a row is
never claimed twice.
"""

from __future__ import annotations

import enum
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from portal.extensions import db
from portal.models import utcnow

FIRST_RETRY_SECONDS = 10.0
MAX_RETRY_SECONDS = 3600.0


def claimable(model: Any, waiting: enum.Enum, now: datetime) -> ColumnElement[bool]:
    """Rows waiting to be sent whose claim, if any, has expired."""
    return and_(
        model.status == waiting,
        or_(model.claim_expires_at.is_(None), model.claim_expires_at < now),
    )


def new_claim(owner: str) -> str:
    return f"{owner[:80]}:{uuid.uuid4().hex[:12]}"


def owner_of(claim: str) -> str:
    """Who holds a claim (the sender's name it was made with)."""
    return claim.rpartition(":")[0]


def claim_due(
    model: Any, waiting: enum.Enum, owner: str, *, limit: int, lease: timedelta
) -> list[tuple[int, str]]:
    """Claim up to `limit` rows whose next attempt is due, oldest due first; commits."""
    now = utcnow()
    candidates = db.session.scalars(
        select(model.id)
        .where(claimable(model, waiting, now), model.next_attempt_at <= now)
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        db.session.rollback()
        return []
    claim = new_claim(owner)
    db.session.execute(
        update(model)
        .where(model.id.in_(candidates), claimable(model, waiting, now))
        .values(claimed_by=claim, claim_expires_at=now + lease)
    )
    db.session.commit()
    claimed = db.session.scalars(select(model.id).where(model.claimed_by == claim)).all()
    return [(row_id, claim) for row_id in claimed]


def renew(model: Any, row_id: int, claim: str, lease: timedelta) -> bool:
    """Extend our own claim (not committed); False when another sender took the row over.

    Taking the row's write lock first (a row lock on PostgreSQL, the database's on SQLite) means
    no decision can slip in between reading the state and writing an outcome."""
    renewed = db.session.execute(
        update(model)
        .where(model.id == row_id, model.claimed_by == claim)
        .values(claim_expires_at=utcnow() + lease)
    )
    return renewed.rowcount == 1


def retry_delay(
    attempts: int,
    retry_after: float | None = None,
    *,
    first: float = FIRST_RETRY_SECONDS,
    ceiling: float = MAX_RETRY_SECONDS,
) -> float:
    """Seconds before the next attempt: exponential, capped, with jitter; never before the
    other side's Retry-After."""
    top = min(ceiling, first * 2 ** max(attempts - 1, 0))
    delay = random.uniform(top / 2, top)  # jitter spreads retries; not a secret
    return max(delay, retry_after or 0.0)
