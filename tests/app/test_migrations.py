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


def _insert_deposit(organization_id: int, reference: str, entries: str, party: str) -> None:
    db.session.execute(
        sa.text(
            "INSERT INTO deposits (organization_id, kind, file_name, file_size, media_type, sha256,"
            " storage_key, active_content, external_reference, external_reference_generated,"
            " entries, counterparty, status, attempts, answer_pending, maybe_delivered,"
            " created_at, updated_at) VALUES (:org, 'purchase', 'f.pdf', 1, 'application/pdf',"
            " 'x', 'k', false, :ref, false, :entries, :party, 'sent', 0, false, false,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"org": organization_id, "ref": reference, "entries": entries, "party": party},
    )
    db.session.commit()


def test_existing_deposits_get_their_history_columns_and_drafts_come_and_go(
    empty_app: Flask,
) -> None:
    upgrade(revision="0007")
    db.session.execute(
        sa.text(
            "INSERT INTO organizations (name, integration_id, integration_secret_encrypted,"
            " status, created_at) VALUES ('O', 'i', 'x', 'active', CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    organization_id = db.session.execute(sa.text("SELECT id FROM organizations")).scalar_one()
    lines = [
        {"date": "2026-03-10T00:00:00.000Z", "debit": {"amount": 100.1}, "credit": {"amount": 0}},
        {"date": "2026-03-09T00:00:00.000Z", "debit": {"amount": 20}, "credit": {"amount": 0}},
    ]
    _insert_deposit(
        organization_id, "R1", json.dumps({"data": {"lines": lines}}), json.dumps({"name": "EDF"})
    )
    _insert_deposit(organization_id, "R2", "null", "null")
    db.session.remove()
    upgrade()
    rows = db.session.execute(
        sa.text(
            "SELECT external_reference, counterparty_name, total_debit, invoice_date"
            " FROM deposits ORDER BY external_reference"
        )
    ).all()
    first, second = rows
    assert first[1] == "EDF" and float(first[2]) == 120.1 and str(first[3]) == "2026-03-09"
    assert second[1:] == (None, None, None)
    tables = sa.inspect(db.engine).get_table_names()
    assert "drafts" in tables
    db.session.remove()

    downgrade(revision="0007")
    assert "drafts" not in sa.inspect(db.engine).get_table_names()
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("deposits")}
    assert "counterparty_name" not in columns and "correction_of_id" not in columns


def test_invoice_readings_come_and_go_with_0012(empty_app: Flask) -> None:
    upgrade(revision="0011")
    db.session.execute(
        sa.text(
            "INSERT INTO organizations (name, integration_id, integration_secret_encrypted,"
            " status, created_at) VALUES ('O', 'i', 'x', 'active', CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    organization_id = db.session.execute(sa.text("SELECT id FROM organizations")).scalar_one()
    _insert_deposit(organization_id, "R1", "null", "null")
    db.session.remove()
    upgrade()
    reading = json.dumps({"proposal": {"source": "xml", "reference": "FA-1"}})
    db.session.execute(sa.text("UPDATE deposits SET reading = :reading"), {"reading": reading})
    db.session.commit()
    stored = db.session.execute(sa.text("SELECT reading FROM deposits")).scalar_one()
    assert (json.loads(stored) if isinstance(stored, str) else stored)["proposal"][
        "reference"
    ] == "FA-1"
    draft_columns = {c["name"] for c in sa.inspect(db.engine).get_columns("drafts")}
    assert {"reading", "reading_state", "reading_started_at"} <= draft_columns
    db.session.remove()

    downgrade(revision="0011")
    assert "reading" not in {c["name"] for c in sa.inspect(db.engine).get_columns("deposits")}
    assert "reading_state" not in {c["name"] for c in sa.inspect(db.engine).get_columns("drafts")}
    assert (
        db.session.execute(sa.text("SELECT external_reference FROM deposits")).scalar_one() == "R1"
    )


def test_existing_accounts_get_every_notice_and_no_summary_and_the_outbox_comes_and_goes(
    empty_app: Flask,
) -> None:
    upgrade(revision="0010")
    db.session.execute(
        sa.text(
            "INSERT INTO users (email, password_hash, role, active, created_at)"
            " VALUES ('old@example.test', 'x', 'member', true, CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    db.session.remove()
    upgrade(revision="0011")
    row = db.session.execute(
        sa.text(
            "SELECT notify_refusals, notify_failures, notify_revocations, weekly_digest,"
            " pages_locale FROM users"
        )
    ).one()
    assert tuple(row) == (True, True, True, False, None)
    tables = sa.inspect(db.engine).get_table_names()
    assert {"outgoing_mails", "password_resets"} <= set(tables)
    db.session.remove()

    downgrade(revision="0010")
    tables = sa.inspect(db.engine).get_table_names()
    assert "outgoing_mails" not in tables and "password_resets" not in tables
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
    assert not columns & {"notify_refusals", "weekly_digest", "pages_locale"}
    assert db.session.execute(sa.text("SELECT email FROM users")).scalar_one() == "old@example.test"
