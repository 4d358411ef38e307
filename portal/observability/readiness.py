"""Readiness: the database answers and, when senders run apart (PORTAL_SENDER=external), at
least one of them was seen in the last minute. Each sender writes a heartbeat, with the last
time it reached OneConnect, so a dead worker or a silent upstream shows."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.models import WorkerHeartbeat, utcnow

ALIVE_WITHIN = timedelta(minutes=1)
HEARTBEAT_EVERY = timedelta(seconds=10)


@dataclass
class UpstreamContact:
    at: datetime | None = None
    ok: bool | None = None


_contact = UpstreamContact()
_contact_lock = threading.Lock()


def upstream_contact(ok: bool) -> None:
    """This process just called OneConnect: it answered (`ok`) or could not be reached."""
    with _contact_lock:
        _contact.at, _contact.ok = utcnow(), ok


def beat(name: str, started_at: datetime, last_beat: datetime | None) -> datetime:
    """Write this sender's heartbeat if the last one is HEARTBEAT_EVERY old; commits. Returns
    when it last beat."""
    now = utcnow()
    if last_beat is not None and now - last_beat < HEARTBEAT_EVERY:
        return last_beat
    row = db.session.get(WorkerHeartbeat, name) or WorkerHeartbeat(name=name)
    row.host, row.pid, row.started_at, row.seen_at = (
        socket.gethostname(),
        os.getpid(),
        started_at,
        now,
    )
    with _contact_lock:
        if _contact.at is not None:
            row.upstream_at, row.upstream_ok = _contact.at, _contact.ok
    db.session.add(row)
    db.session.commit()
    return now


def live_senders() -> list[WorkerHeartbeat]:
    return list(
        db.session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.seen_at >= utcnow() - ALIVE_WITHIN)
            .order_by(WorkerHeartbeat.name)
        )
    )


def recent_senders(limit: int = 20) -> list[WorkerHeartbeat]:
    """The senders seen last, live or not (the admin console lists them)."""
    return list(
        db.session.scalars(
            select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc()).limit(limit)
        )
    )


def readyz() -> ResponseReturnValue:
    checks: dict[str, object] = {}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", checks={"database": "unreachable"}), 503
    checks["database"] = "ok"
    try:
        senders = live_senders()
    except SQLAlchemyError:  # e.g. a release started before its migrations ran
        db.session.rollback()
        checks["senders"] = "unknown: the heartbeats cannot be read (migrations not applied?)"
        return jsonify(status="unavailable", checks=checks), 503
    external = not current_app.config["SENDER_IN_PROCESS"]
    checks["senders"] = [
        {"name": s.name, "host": s.host, "seen_at": s.seen_at.isoformat()} for s in senders
    ]
    contacts = [s for s in senders if s.upstream_at is not None]
    latest = max(contacts, key=lambda s: s.upstream_at, default=None)
    checks["upstream"] = (
        {"at": latest.upstream_at.isoformat(), "ok": latest.upstream_ok} if latest else None
    )
    if external and not senders:
        checks["senders"] = "none seen in the last minute"
        return jsonify(status="unavailable", checks=checks), 503
    return jsonify(status="ok", checks=checks), 200


bp = Blueprint("readiness", __name__)
bp.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
