"""The sender's edge cases: an attempt bounded as a whole, a dead request's deposit taken over in
seconds, errors of the portal's own, a Failed deposit that OneConnect may have all the same."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import create_app
from portal.deposits import delivery
from portal.deposits.worker import Sender
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Organization, utcnow
from portal.oneconnect import spec
from portal.sandbox.faults import Target
from tests import factories
from tests.app.test_delivery import assert_each_sent_exactly_once, drain, make_due, queue
from tests.app.test_deposits import deposit_form, send
from tests.conftest import app_config

# The upstream's own timeouts are the production ones: only the attempt's budget bounds a call.
FIRST_ATTEMPT_SECONDS = 1.0


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    app = create_app(
        app_config(database_url, tmp_path, sandbox, FIRST_ATTEMPT_SECONDS=FIRST_ATTEMPT_SECONDS)
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def organization(app: Flask, sandbox: Any, login_as) -> Organization:
    integration_id, secret = sandbox.state.create_integration("Bornes SARL")
    member = factories.user(email="owner@boulangerie.test")
    login_as(member)
    return factories.organization(member, integration_id=integration_id, secret=secret)


def the_deposit() -> Deposit:
    db.session.expire_all()
    return db.session.scalars(select(Deposit)).one()


def test_a_hanging_token_endpoint_never_turns_a_saved_deposit_into_an_error(
    client: FlaskClient, organization: Organization, sandbox: Any
) -> None:
    sandbox.state.faults.hang_next(4.0, target=Target.TOKEN)

    response = send(client, organization, deposit_form())

    assert response.status_code == 303
    deposit = the_deposit()
    assert deposit.status is DepositStatus.QUEUED  # not sent after the hang: the budget held
    assert deposit.attempts == 1 and deposit.claimed_by is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The portal will send the invoice again automatically." in page
    sandbox.state.faults.clear()
    drain(client.application)
    assert_each_sent_exactly_once(sandbox, [deposit.id])


def test_a_deposit_whose_request_died_is_taken_over_within_seconds(
    app: Flask, organization: Organization, sandbox: Any
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    before = utcnow()
    claim = delivery.claim_deposit(deposit_id, "web", budget=FIRST_ATTEMPT_SECONDS)
    assert claim is not None  # ...and the request dies here, before any answer

    held = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert held.claim_expires_at <= before + timedelta(seconds=FIRST_ATTEMPT_SECONDS + 6)
    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id)
        .values(claim_expires_at=before + timedelta(seconds=FIRST_ATTEMPT_SECONDS + 6))
    )
    db.session.commit()
    assert Sender(app).run_once() == 0  # the lease still holds

    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id)
        .values(claim_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert Sender(app).run_once() == 1
    assert_each_sent_exactly_once(sandbox, [deposit_id])


def test_a_senders_lease_is_a_setting_and_its_attempt_ends_before_it(
    database_url: str, tmp_path: Path, sandbox: Any
) -> None:
    app = create_app(app_config(database_url, tmp_path, sandbox, SENDER_LEASE_SECONDS=6))
    with app.app_context():
        integration_id, secret = sandbox.state.create_integration("Bail SARL")
        organization = factories.organization(
            factories.user(), integration_id=integration_id, secret=secret
        )
        [deposit_id] = queue(app, organization, count=1)
        before = utcnow()
        [(claimed, _)] = delivery.claim_due("lease-test")
        assert claimed == deposit_id
        lease = db.session.get(Deposit, deposit_id).claim_expires_at - before
        assert timedelta(seconds=5) <= lease <= timedelta(seconds=7)
        db.session.execute(update(Deposit).values(claimed_by=None, claim_expires_at=None))
        db.session.commit()

        sandbox.state.faults.hang_next(
            4.0, target=Target.TOKEN
        )  # longer than the lease minus its margin
        Sender(app).run_once()
        deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
        assert deposit.status is DepositStatus.QUEUED and deposit.next_attempt_at is not None
        db.session.remove()
        db.engine.dispose()


def test_a_removed_encryption_key_fails_the_deposit_in_words_at_once(
    client: FlaskClient, organization: Organization, sandbox: Any
) -> None:
    foreign = Fernet(Fernet.generate_key()).encrypt(b"secret-under-a-key-now-gone")
    organization.integration_secret_encrypted = foreign
    db.session.commit()

    response = send(client, organization, deposit_form())

    assert response.status_code == 303
    deposit = the_deposit()
    assert deposit.status is DepositStatus.FAILED
    assert deposit.attempts == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "can no longer read this organization&#39;s integration secret" in page
    assert ">Retry</button>" in page
    assert sandbox.state.documents() == []


def test_an_error_of_the_portals_own_ends_in_a_clear_failure_not_a_day_of_retries(
    app: Flask, organization: Organization, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    organization.integration_id = ".."  # the client refuses to put it in a URL (ValueError)
    db.session.commit()

    with caplog.at_level(logging.ERROR, logger="portal.deposits.delivery"):
        drain(app, rounds=1)

    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.FAILED and deposit.attempts == 1
    assert deposit.claimed_by is None
    assert deposit.external_reference in str(deposit.last_error)
    assert "an error of its own" in str(deposit.last_error)
    assert any(record.exc_info for record in caplog.records)
    assert sandbox.state.documents() == []


def failed_after_a_lost_answer(app: Flask, organization: Organization, sandbox: Any) -> int:
    """A deposit OneConnect received (the answer was lost), then 24 hours of 503s."""
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.lose_next_answer()
    Sender(app).run_once()
    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id)
        .values(queued_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    sandbox.state.faults.fail_next(5)
    make_due()
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.FAILED and deposit.maybe_delivered
    return deposit_id


@pytest.mark.parametrize("decision", [DepositStatus.ACCEPTED, DepositStatus.REFUSED])
def test_a_failed_deposit_that_may_have_been_delivered_takes_the_firms_decision(
    app: Flask,
    client: FlaskClient,
    organization: Organization,
    sandbox: Any,
    decision: DepositStatus,
) -> None:
    from tests.app.test_webhooks import cloud_event, deliver

    deposit_id = failed_after_a_lost_answer(app, organization, sandbox)
    page = client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    assert "OneConnect may have received this invoice all the same" in page
    assert "hx-trigger=" in page  # the page keeps asking for the decision

    [document] = sandbox.state.documents()
    event = cloud_event(
        spec.EVENT_DOCUMENT_STATUS,
        {
            "integrationId": organization.integration_id,
            "documentId": document.document_id,
            "externalReference": document.external_reference,
            "documentState": decision.value.capitalize(),
        },
    )
    assert deliver(client, sandbox, event).status_code == 202

    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is decision
    assert deposit.document_id == document.document_id
    page = client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    assert "may have received this invoice" not in page


def test_a_failed_deposit_that_never_reached_oneconnect_says_nothing_of_the_kind(
    app: Flask, client: FlaskClient, organization: Organization, sandbox: Any
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    organization.integration_secret_encrypted = Fernet(Fernet.generate_key()).encrypt(b"x")
    db.session.commit()
    Sender(app).run_once()
    assert db.session.get(Deposit, deposit_id).status is DepositStatus.FAILED
    page = client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    assert "may have received this invoice" not in page


def test_a_file_whose_draft_cannot_be_recorded_leaves_nothing_on_disk(
    app: Flask, organization: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from portal.deposits import drafts
    from portal.deposits.storage import file_store
    from tests.support import invoices

    def database_gone() -> None:
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(db.session, "commit", database_gone)
    member = organization.memberships[0].user
    with pytest.raises(OperationalError):
        drafts.stage(
            organization, member, io.BytesIO(invoices.pdf()), "facture.pdf", store=file_store()
        )
    monkeypatch.undo()
    root = Path(app.config["STORAGE_DIR"])
    assert [path for path in root.rglob("*") if path.is_file()] == []
