"""What every benchmark needs: a portal app on a scratch database, and many deposits fast."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, insert, text

from portal import create_app
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Membership, Organization, User, utcnow
from portal.models.search import search_text
from portal.passwords import hash_password

STATUSES = list(DepositStatus)
# One key for the seeding process and the served portal (they read the same secrets).
BENCH_KEY = os.environ.setdefault("PORTAL_BENCH_KEY", Fernet.generate_key().decode())


def bench_database_url(folder: Path) -> str:
    """SQLite in `folder`, or PORTAL_BENCH_DATABASE_URL (an empty PostgreSQL database)."""
    return os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"


def build_app(folder: Path, url: str | None = None, **overrides: Any) -> Flask:
    """The portal on the bench's database (see bench_database_url), without its sender."""
    return create_app(
        {
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": url or bench_database_url(folder),
            "SECRET_KEY": "bench",
            "ENCRYPTION_KEYS": BENCH_KEY,
            "ONECONNECT_API_BASE": "http://127.0.0.1:9/v1",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SENDER_IN_PROCESS": False,
            "TWO_FACTOR_REQUIRED": "",
        }
        | overrides
    )


def entries_for(n: int) -> dict[str, Any]:
    """Two balanced lines, as the deposit form sends them (the JSON a list must never decode)."""
    day = f"2026-03-{n % 28 + 1:02d}T00:00:00.000Z"
    amount = (n % 9000) / 10 + 10
    line = {"date": day, "journal": "HA", "reference": f"FA-{n}", "label": f"Facture {n}"}
    return {
        "data": {
            "lines": [
                line | {"account": "607000", "debit": {"amount": amount}, "credit": {"amount": 0}},
                line | {"account": "401000", "debit": {"amount": 0}, "credit": {"amount": amount}},
            ]
        }
    }


def deposit_row(n: int, start: datetime) -> dict[str, Any]:
    """The n-th deposit of a bulk load: one every five minutes from `start`."""
    party = f"Fournisseur {n % 500}"
    file_name = f"invoice-{n}.pdf"
    reference = f"REF-{n}"
    document = f"doc-{n:08x}" if n % 6 else None
    entries = entries_for(n)
    return {
        "kind": "purchase" if n % 3 else "sales",
        "file_name": file_name,
        "file_size": 1000,
        "media_type": "application/pdf",
        "sha256": "0" * 64,
        "storage_key": f"{n:032x}",
        "active_content": False,
        "external_reference": reference,
        "external_reference_generated": False,
        "entries": entries,
        "counterparty": {"name": party, "siren": "552081317"},
        "counterparty_name": party,
        "total_debit": Decimal(str(entries["data"]["lines"][0]["debit"]["amount"])),
        "search_text": search_text((file_name, reference, document, party)),
        "document_id": document,
        "status": STATUSES[n % len(STATUSES)].value,
        "attempts": 1,
        "answer_pending": False,
        "maybe_delivered": False,
        "created_at": start + timedelta(seconds=n * 300),
        "updated_at": start,
    }


def insert_deposits(count: int, row: Callable[[int], dict[str, Any]], first: int = 0) -> None:
    """Bulk-insert `count` deposits numbered from `first`, one every five minutes over the past
    year; `row(n)` adds or overrides columns of the n-th (organization_id at least). COPY on
    PostgreSQL, executemany on SQLite."""
    start = utcnow() - timedelta(days=365)
    rows = (deposit_row(n, start) | row(n) for n in range(first, first + count))
    if db.engine.dialect.name == "postgresql":
        _copy(rows)
    else:
        while chunk := list(itertools.islice(rows, 5000)):
            db.session.execute(insert(Deposit.__table__), chunk)
    db.session.commit()


def _copy(rows: Iterator[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, an order of magnitude faster than INSERT for millions of rows."""
    first = next(rows)
    columns = list(first)
    raw = db.session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        names = ", ".join(columns)
        with cursor.copy(f"COPY deposits ({names}) FROM STDIN") as copy:
            for item in itertools.chain([first], rows):
                copy.write_row([_copy_value(item[column]) for column in columns])


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


def analyse() -> None:
    """As autovacuum would after a bulk load: statistics for the planner, and the visibility
    map PostgreSQL's index-only scans need."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE deposits"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


PASSWORD = "bench password"


def member_with_organization(app: Flask) -> tuple[User, Organization]:
    """A member and the one organization (id 1 on a fresh database) they deposit for."""
    user = User(email="bench@example.test", password_hash=hash_password(PASSWORD))
    organization = Organization(
        name="Bench SARL",
        integration_id="00000000-0000-4000-8000-000000000001",
        integration_secret_encrypted=app.extensions["secret_box"].encrypt("secret"),
    )
    organization.memberships.append(Membership(user=user))
    db.session.add(organization)
    db.session.commit()
    return user, organization


class Timer:
    """Times pages for a signed-in user and counts the SQL statements each one runs."""

    def __init__(self, app: Flask, email: str, rounds: int) -> None:
        self.client = app.test_client()
        self.rounds = rounds
        self.statements = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        self.client.post("/login", data={"email": email, "password": PASSWORD})

    def _count(self, *args: Any) -> None:
        self.statements += 1

    def page(self, url: str) -> str:
        return self.client.get(url).get_data(as_text=True)

    def report(self, label: str, url: str) -> None:
        """Print the median time and the statements of one request to `url`."""
        timings = []
        for _ in range(self.rounds):
            self.statements = 0
            started = time.perf_counter()
            response = self.client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:30} {statistics.median(timings) * 1000:8.2f} ms  {self.statements} queries")


@contextmanager
def benchmark(seed: Callable[[Flask], str], rounds: int) -> Iterator[Timer]:
    """A migrated scratch database seeded by `seed` (which returns the e-mail to sign in with)."""
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            email = seed(app)
            elapsed = time.perf_counter() - started
            print(f"seeded in {elapsed:.1f} s ({db.engine.dialect.name})")
            try:
                yield Timer(app, email, rounds)
            finally:
                db.session.remove()
                db.engine.dispose()


def link_after(page: str, marker: str, text: str | None = None) -> str:
    """The first link of `page` whose address holds `marker` (and whose text holds `text`)."""
    for piece in page.split('href="')[1:]:
        link = piece.split('"')[0].replace("&amp;", "&")
        if marker in link and (text is None or text in piece.split("</a>")[0]):
            return link
    raise RuntimeError(f"no link with {marker!r}")
