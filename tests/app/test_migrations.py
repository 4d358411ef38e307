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


def test_two_factor_tables_come_and_go_with_0013(empty_app: Flask) -> None:
    upgrade(revision="0012")
    db.session.execute(
        sa.text(
            "INSERT INTO users (email, password_hash, role, active, created_at)"
            " VALUES ('staff@example.test', 'x', 'staff', true, CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    db.session.remove()
    upgrade(revision="0013")
    user_id = db.session.execute(sa.text("SELECT id FROM users")).scalar_one()
    db.session.execute(
        sa.text(
            "INSERT INTO two_factor (user_id, secret_encrypted, created_at, last_step)"
            " VALUES (:user, :secret, CURRENT_TIMESTAMP, :step)"
        ),
        # A time step beyond 32 bits: the column holds any step until the year 6000 and more.
        {"user": user_id, "secret": b"encrypted", "step": 2**33},
    )
    insert_code = sa.text(
        "INSERT INTO two_factor_recovery_codes (user_id, code_sha256, created_at)"
        " VALUES (:user, :digest, CURRENT_TIMESTAMP)"
    )
    db.session.execute(insert_code, {"user": user_id, "digest": "a" * 64})
    db.session.commit()
    assert db.session.execute(sa.text("SELECT last_step FROM two_factor")).scalar_one() == 2**33
    with pytest.raises(sa.exc.IntegrityError):  # one user never holds the same code twice
        db.session.execute(insert_code, {"user": user_id, "digest": "a" * 64})
        db.session.commit()
    db.session.rollback()
    db.session.remove()

    downgrade(revision="0012")
    tables = set(sa.inspect(db.engine).get_table_names())
    assert not tables & {"two_factor", "two_factor_recovery_codes"}
    assert db.session.execute(sa.text("SELECT email FROM users")).scalar_one() == (
        "staff@example.test"
    )


def _deposit_indexes() -> set[str]:
    return {index["name"] for index in sa.inspect(db.engine).get_indexes("deposits")}


def test_0014_folds_the_search_text_of_existing_deposits_and_indexes_the_review(
    empty_app: Flask,
) -> None:
    db.session.remove()
    upgrade(revision="0013")
    db.session.execute(
        sa.text(
            "INSERT INTO organizations (name, integration_id, integration_secret_encrypted,"
            " status, created_at) VALUES ('O', 'i-0014', 'x', 'active', CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    organization_id = db.session.execute(
        sa.text("SELECT id FROM organizations WHERE integration_id = 'i-0014'")
    ).scalar_one()
    _insert_deposit(organization_id, "FA-Été", "null", json.dumps({"name": "Œuvres Électriques"}))
    _insert_deposit(organization_id, "R2", "null", "null")
    db.session.remove()

    upgrade(revision="0014")
    rows = db.session.execute(
        sa.text("SELECT search_text, counterparty_name FROM deposits ORDER BY external_reference")
    ).all()
    assert rows[0] == ("f.pdf fa-ete oeuvres electriques", "Œuvres Électriques")
    assert rows[1] == ("f.pdf r2", None)
    assert {"ix_deposits_created", "ix_deposits_org_file_name"} <= _deposit_indexes()
    if db.engine.dialect.name == "postgresql":
        assert "ix_deposits_search_text_trgm" in _deposit_indexes()
        assert "ix_deposits_search_trgm" not in _deposit_indexes()
    db.session.remove()

    downgrade(revision="0013")
    assert "search_text" not in {c["name"] for c in sa.inspect(db.engine).get_columns("deposits")}
    assert "ix_deposits_created" not in _deposit_indexes()
    if db.engine.dialect.name == "postgresql":
        assert "ix_deposits_search_trgm" in _deposit_indexes()
    assert db.session.execute(sa.text("SELECT count(*) FROM deposits")).scalar_one() == 2


def test_heartbeats_and_attempt_makers_come_and_go_with_0015_and_0016(empty_app: Flask) -> None:
    upgrade(revision="0016")
    tables = sa.inspect(db.engine)
    assert "worker_heartbeats" in tables.get_table_names()
    assert "made_by" in {column["name"] for column in tables.get_columns("deposit_events")}
    db.session.remove()

    downgrade(revision="0014")
    tables = sa.inspect(db.engine)
    assert "worker_heartbeats" not in tables.get_table_names()
    assert "made_by" not in {column["name"] for column in tables.get_columns("deposit_events")}
