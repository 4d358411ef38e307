"""Migrations of the language issue, on the database the suite runs against: up, data, down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import POSTGRES_URL, TEST_ENCRYPTION_KEY, postgres_database


@pytest.fixture
def empty_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own, with no table yet."""
    with ExitStack() as stack:
        if POSTGRES_URL:
            url = stack.enter_context(postgres_database("portal_migrations"))
        else:
            url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": tmp_path / "instance",
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "migrations",
                "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
                "ONECONNECT_API_BASE": "http://127.0.0.1:9/v1",
            }
        )
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def _insert_event(event_id: str, verification: str) -> None:
    db.session.execute(
        sa.text(
            "INSERT INTO webhook_events (event_id, type, event_time, received_at, body,"
            " verification, outcome) VALUES (:id, 't', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
            " '{}', :verification, 'applied')"
        ),
        {"id": event_id, "verification": verification},
    )
    db.session.commit()


def _verifications() -> dict[str, str]:
    rows = db.session.execute(sa.text("SELECT event_id, verification FROM webhook_events"))
    found = dict(rows.all())
    db.session.remove()  # no open transaction may hold a lock the next migration needs
    return found


def test_webhook_notes_become_notices_and_come_back(empty_app: Flask) -> None:
    upgrade(revision="0006")
    _insert_event("e1", "verified (kid sandbox-1)")
    _insert_event("e2", "verified")
    upgrade()
    notes = {key: json.loads(value) for key, value in _verifications().items()}
    assert notes["e1"] == {"code": "webhook.verified", "params": {"kid": "sandbox-1"}}
    assert notes["e2"] == {"code": "webhook.verified_no_kid", "params": {}}
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
    assert "locale" in columns

    downgrade(revision="0005")
    assert _verifications() == {"e1": "verified (kid sandbox-1)", "e2": "verified"}
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
    assert "locale" not in columns
