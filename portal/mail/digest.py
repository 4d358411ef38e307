"""The weekly summary, for those who ask for it (Settings): members get their organizations'
week, staff the new, refused and failed deposits of the organizations assigned to them.

A week runs Monday to Sunday, Paris time; its summary is due from the next Monday at 07:00.
What it says is gathered when it is queued (the week is over by then) and kept on the outbox
row, so a resend says the same. A week with nothing to say sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select

from portal import policy
from portal.extensions import db
from portal.i18n import PARIS
from portal.mail import outbox
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    MailKind,
    Organization,
    OutgoingMail,
    Role,
    User,
)

SEND_AT = time(7, 0)
LISTED = 10  # refused or failed deposits named per organization; the rest are counted


@dataclass(frozen=True)
class Week:
    start: date  # a Monday
    end: date  # the Sunday after it

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Its first and first-after instants (aware, Paris midnights)."""
        first = datetime.combine(self.start, time(0), PARIS)
        return first, datetime.combine(self.end + timedelta(days=1), time(0), PARIS)


def due_week(now: datetime) -> Week:
    """The last week whose summary is due at `now`."""
    local = now.astimezone(PARIS)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_AT, PARIS):
        monday -= timedelta(days=7)
    start = monday - timedelta(days=7)
    return Week(start, start + timedelta(days=6))


def _key(user_id: int, week: Week) -> str:
    return f"digest:{user_id}:{week.start.isoformat()}"


def queue_due(now: datetime) -> int:
    """Queue the due week's summary for each account that wants one and has none yet; commits.
    Returns how many were queued."""
    week = due_week(now)
    key = literal("digest:") + cast(User.id, String) + literal(f":{week.start.isoformat()}")
    waiting = db.session.scalars(
        select(User).where(
            User.weekly_digest.is_(True),
            User.active.is_(True),
            ~exists().where(OutgoingMail.dedup_key == key),
        )
    ).all()
    queued = 0
    for user in waiting:
        organizations = summarize(user, week)
        if not organizations:
            continue
        outbox.queue(
            MailKind.DIGEST,
            user,
            key=_key(user.id, week),
            params={
                "start": week.start.isoformat(),
                "end": week.end.isoformat(),
                "audience": "member" if user.role is Role.MEMBER else "staff",
                "organizations": organizations,
            },
        )
        queued += 1
    db.session.commit()
    return queued


def summarize(user: User, week: Week) -> list[dict[str, Any]]:
    """The week of each organization `user` sees, leaving out those where nothing happened."""
    first, after = week.bounds
    summaries = []
    for organization in db.session.scalars(
        policy.organizations_visible_to(user).order_by(Organization.name, Organization.id)
    ):
        in_org = Deposit.organization_id == organization.id
        created = and_(in_org, Deposit.created_at >= first, Deposit.created_at < after)
        new = db.session.scalar(select(func.count(Deposit.id)).where(created)) or 0
        accepted = (
            db.session.scalar(
                select(func.count(Deposit.id)).where(
                    in_org,
                    Deposit.status == DepositStatus.ACCEPTED,
                    Deposit.decided_at >= first,
                    Deposit.decided_at < after,
                )
            )
            or 0
        )
        refused = db.session.scalars(
            select(Deposit)
            .where(
                in_org,
                Deposit.status == DepositStatus.REFUSED,
                Deposit.decided_at >= first,
                Deposit.decided_at < after,
            )
            .order_by(Deposit.decided_at, Deposit.id)
        ).all()
        failed = db.session.scalars(
            select(Deposit)
            .where(
                in_org,
                Deposit.status == DepositStatus.FAILED,
                exists().where(
                    DepositEvent.deposit_id == Deposit.id,
                    DepositEvent.kind == DepositEventKind.FAILED,
                    DepositEvent.created_at >= first,
                    DepositEvent.created_at < after,
                ),
            )
            .order_by(Deposit.id)
        ).all()
        if not (new or accepted or refused or failed):
            continue
        summaries.append(
            {
                "id": organization.id,
                "name": organization.name,
                "new": int(new),
                "accepted": int(accepted),
                "refused": [
                    {"id": d.id, "file": d.file_name, "reason": d.rejection_reason}
                    for d in refused[:LISTED]
                ],
                "more_refused": max(len(refused) - LISTED, 0),
                "failed": [{"id": d.id, "file": d.file_name} for d in failed[:LISTED]],
                "more_failed": max(len(failed) - LISTED, 0),
            }
        )
    return summaries
