"""What every benchmark needs: a portal app on a scratch database, and many deposits fast."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import insert

from portal import create_app
from portal.extensions import db
from portal.models import Deposit, DepositStatus, utcnow

STATUSES = list(DepositStatus)


def build_app(folder: Path) -> Flask:
    """SQLite in `folder`, or PORTAL_BENCH_DATABASE_URL (an empty PostgreSQL database)."""
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    return create_app(
        {
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ONECONNECT_API_BASE": "http://127.0.0.1:9/v1",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SENDER_IN_PROCESS": False,
        }
    )


def insert_deposits(count: int, row: Callable[[int], dict[str, Any]]) -> None:
    """Bulk-insert `count` deposits, one every five minutes over the past year; `row(n)` adds
    or overrides columns of the n-th (organization_id at least)."""
    start = utcnow() - timedelta(days=365)
    rows = [
        {
            "kind": "purchase",
            "file_name": f"invoice-{n}.pdf",
            "file_size": 1000,
            "media_type": "application/pdf",
            "sha256": "0" * 64,
            "storage_key": f"{n:032x}",
            "active_content": False,
            "external_reference": f"REF-{n}",
            "external_reference_generated": False,
            "status": STATUSES[n % len(STATUSES)].value,
            "attempts": 1,
            "answer_pending": False,
            "maybe_delivered": False,
            "created_at": start + timedelta(seconds=n * 300),
            "updated_at": start,
        }
        | row(n)
        for n in range(count)
    ]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Deposit.__table__), rows[chunk : chunk + 5000])
    db.session.commit()
