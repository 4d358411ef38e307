"""The senders' heartbeats: which worker is alive, where, and when it last reached OneConnect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeats"

    # The sender's name: host:pid:thread (see portal.deposits.worker.Sender).
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    upstream_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    upstream_ok: Mapped[bool | None]
