"""A deposit is never lost and never sent twice: faults, crashes, races and revocations."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from portal import create_app
from portal.config import PROJECT_ROOT
from portal.deposits import delivery, services
from portal.deposits.storage import FileStore
from portal.deposits.worker import Sender
from portal.extensions import db
from portal.models import (
    Deposit,
    DepositStatus,
    Organization,
    OrganizationStatus,
    User,
    utcnow,
)
from portal.notices import Notice, reason_words
from portal.oneconnect import spec
from portal.sandbox.faults import Target
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY, app_config
from tests.support import invoices

PDF = invoices.pdf()


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    """Short read timeouts, so a hanging upstream costs a test well under a second."""
    app = create_app(app_config(database_url, tmp_path, sandbox, ONECONNECT_READ_TIMEOUT=0.5))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def organization(app: Flask, sandbox: Any) -> Organization:
    integration_id, secret = sandbox.state.create_integration("Queue SARL")
    return factories.organization(factories.user(), integration_id=integration_id, secret=secret)


def queue(app: Flask, organization: Organization, count: int = 3) -> list[int]:
    actor = db.session.get(User, organization.memberships[0].user_id)
    commands = [factories.deposit_command(organization, actor, PDF) for _ in range(count)]
    return [services.queue_deposit(organization, c, actor=actor).id for c in commands]


def make_due() -> None:
    """Bring every waiting deposit's next attempt to now (instead of sleeping through backoff)."""
    db.session.execute(
        update(Deposit)
        .where(Deposit.status == DepositStatus.QUEUED)
        .values(next_attempt_at=utcnow())
    )
    db.session.commit()


def drain(app: Flask, rounds: int = 25) -> None:
    sender = Sender(app, name="test-sender")
    for _ in range(rounds):
        make_due()
        sender.run_once()
        if not db.session.scalars(
            select(Deposit).where(Deposit.status == DepositStatus.QUEUED)
        ).first():
            return
    raise AssertionError("deposits still queued after every round")


def assert_each_sent_exactly_once(sandbox: Any, ids: list[int]) -> None:
    db.session.expire_all()
    deposits = [db.session.get(Deposit, deposit_id) for deposit_id in ids]
    assert [d.status for d in deposits] == [DepositStatus.SENT] * len(ids), [
        d.last_error for d in deposits
    ]
    documents = sandbox.state.documents()
    by_reference = {document.external_reference: document for document in documents}
    assert len(documents) == len(ids), "a deposit reached OneConnect twice (or not at all)"
    for deposit in deposits:
        assert by_reference[deposit.external_reference].document_id == deposit.document_id


FAULT_SCHEDULES: dict[str, Callable[[Any], None]] = {
    "no fault": lambda f: None,
    "one 503": lambda f: f.fail_next(1),
    "three 503s": lambda f: f.fail_next(3),
    "429 with Retry-After": lambda f: f.fail_next(2, status=429, retry_after=1),
    "502 then 500": lambda f: (f.fail_next(1, status=502), f.fail_next(1, status=500)),
    "connection resets": lambda f: f.reset_next(count=2),
    "answer lost once": lambda f: f.lose_next_answer(),
    "answers lost twice": lambda f: f.lose_next_answer(count=2),
    "hang past the timeout": lambda f: f.hang_next(1.0),
    "token endpoint down": lambda f: f.fail_next(3, target=Target.TOKEN),
    "token endpoint resets": lambda f: f.reset_next(count=2, target=Target.TOKEN),
    "lost answer, then 503": lambda f: (f.lose_next_answer(), f.fail_next(2)),
    "reset, hang, lost answer": lambda f: (f.reset_next(), f.hang_next(1.0), f.lose_next_answer()),
    "many mixed": lambda f: (f.fail_next(2), f.lose_next_answer(count=2), f.reset_next(count=2)),
}


@pytest.mark.parametrize("schedule", list(FAULT_SCHEDULES))
def test_fault_matrix_loses_nothing_and_sends_each_deposit_once(
    app: Flask, sandbox: Any, organization: Organization, schedule: str
) -> None:
    ids = queue(app, organization, count=3)
    FAULT_SCHEDULES[schedule](sandbox.state.faults)
    drain(app)
    assert_each_sent_exactly_once(sandbox, ids)


def test_a_lost_answer_is_reconciled_from_the_409(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.lose_next_answer()
    drain(app)
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.attempts == 2
    assert "earlier attempt had reached OneConnect" in str(deposit.events[-1].message)


def test_a_409_for_a_reference_never_sent_here_is_a_duplicate(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    reference = db.session.get(Deposit, deposit_id).external_reference
    secret = app.extensions["secret_box"].decrypt(organization.integration_secret_encrypted)
    other = app.extensions["oneconnect"].import_invoice(
        organization.integration_id,
        secret,
        "purchase",
        file=PDF,
        filename="other.pdf",
        media_type="application/pdf",
        external_reference=reference,
    )
    drain(app)
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.DUPLICATE
    assert deposit.document_id == other.document_id
    assert deposit.deposit_date is not None


def test_failed_attempts_show_when_the_next_one_will_be(
    app: Flask, sandbox: Any, organization: Organization, client, login_as
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.fail_next(1)
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.QUEUED
    assert deposit.next_attempt_at > utcnow()
    assert deposit.events[-1].next_attempt_at == deposit.next_attempt_at
    login_as(deposit.created_by)
    page = client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    assert "Sending attempt failed" in page and "(next attempt <time" in page


def test_a_waiting_deposit_says_in_one_sentence_that_the_portal_sends_it_again(
    app: Flask, sandbox: Any, organization: Organization, client, login_as
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.fail_next(1, status=503)
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.QUEUED
    login_as(deposit.created_by)
    expected = {
        "en": "OneConnect is unavailable for now (HTTP 503). The portal will send the invoice "
        "again automatically.",
        "fr": "OneConnect est indisponible pour le moment (HTTP 503). Le portail renverra la "
        "facture automatiquement.",
    }
    for language, sentence in expected.items():
        page = client.get(f"/deposits/{deposit_id}", headers={"Accept-Language": language})
        text_shown = page.get_data(as_text=True)
        alert = re.search(r'<p class="alert alert-warning">(.*?)</p>', text_shown, re.S)
        assert alert is not None and alert.group(1) == sentence
        story = text_shown[text_shown.index('<ol class="story">') :]
        story = story[: story.index("</ol>")]
        assert "(HTTP 503)" in story and "((" not in story and "))" not in story
        assert "Try again" not in text_shown and "Réessayez" not in text_shown


def test_a_waiting_notice_stored_by_an_earlier_release_reads_in_todays_words(
    app: Flask, organization: Organization, client, login_as
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    stored = {
        "code": "deposit.waiting",
        "params": {"cause": {"code": "upstream.unreachable", "params": {}}},
    }
    db.session.execute(
        text("UPDATE deposits SET attempts = 1, last_error = :notice WHERE id = :id"),
        {"notice": json.dumps(stored), "id": deposit_id},
    )
    db.session.commit()
    login_as(db.session.get(Deposit, deposit_id).created_by)
    page = client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    assert (
        "OneConnect could not be reached. The portal will send the invoice again automatically."
        in page
    )


def test_an_expired_deposit_names_its_last_error_without_nested_brackets(app: Flask) -> None:
    cause = {"code": "upstream.unavailable", "params": {"status": 503}}
    assert str(Notice("deposit.expired", {"cause": cause})) == (
        "OneConnect could not be reached for 24 hours. Last error: OneConnect is unavailable "
        "for now (HTTP 503). Use Retry to send the invoice again."
    )


def test_retries_stop_after_24_hours_with_a_retry_button(
    app: Flask, sandbox: Any, organization: Organization, client, login_as
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id)
        .values(queued_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    sandbox.state.faults.fail_next(5)
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.FAILED
    assert "could not be reached for 24 hours" in str(deposit.last_error)
    sandbox.state.faults.clear()
    login_as(deposit.created_by)
    assert ">Retry</button>" in client.get(f"/deposits/{deposit_id}").get_data(as_text=True)
    client.post(f"/deposits/{deposit_id}/retry")
    assert_each_sent_exactly_once(sandbox, [deposit_id])


def test_non_transient_answers_are_never_retried(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    deposit = db.session.get(Deposit, deposit_id)
    deposit.entries = {"data": {"lines": [{"journal": "ACH"}]}}  # refused by OneConnect
    db.session.commit()
    drain(app)
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.FAILED
    assert deposit.attempts == 1
    assert sandbox.state.documents() == []


@pytest.mark.parametrize(
    "revocation",
    ["SMB_CLOSED", "SMB_NOTFOUND", "CPA_CLOSED", "401 with a reason", "Revocation webhook"],
)
def test_every_form_of_revocation_fails_queued_deposits_and_refuses_new_ones(
    app: Flask, sandbox: Any, organization: Organization, client, revocation: str
) -> None:
    ids = queue(app, organization, count=3)
    if revocation in spec.REVOKING_ERROR_CODES:
        sandbox.state.set_business_error(organization.integration_id, revocation)
        expected_reason = spec.REVOCATION_REASONS[revocation]
        drain(app)
    elif revocation == "401 with a reason":
        sandbox.state.revoke_integration(organization.integration_id, "CPA Closed")
        expected_reason = "CPA Closed"
        drain(app)
    else:
        from tests.app.test_webhooks import cloud_event, deliver

        event = cloud_event(
            spec.EVENT_REVOCATION,
            {"integrationId": organization.integration_id, "reason": "SMB Closed"},
        )
        assert deliver(client, sandbox, event).status_code == 202
        expected_reason = "SMB Closed"
    db.session.expire_all()
    assert organization.status is OrganizationStatus.REVOKED
    assert organization.revocation_reason == expected_reason
    for deposit_id in ids:
        deposit = db.session.get(Deposit, deposit_id)
        assert deposit.status is DepositStatus.FAILED
        # Stored as OneConnect's reason, worded for the reader when shown.
        assert deposit.last_error.code == "organization.revoked"
        assert deposit.last_error.params["reason"] == expected_reason
        assert reason_words(expected_reason) in str(deposit.last_error)
    with pytest.raises(services.DepositRefused, match="Reconnect it"):
        queue(app, organization, count=1)
    assert len(sandbox.state.documents()) <= 1  # at most the import that revealed it


def test_a_decision_that_overtakes_a_lost_answer_is_kept(
    app: Flask, sandbox: Any, organization: Organization, client
) -> None:
    """The answer to our send is lost, the accounting firm decides, then our retry gets a 409."""
    from tests.app.test_webhooks import cloud_event, deliver

    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.lose_next_answer()
    Sender(app).run_once()
    [document] = sandbox.state.documents()
    event = cloud_event(
        spec.EVENT_DOCUMENT_STATUS,
        {
            "integrationId": organization.integration_id,
            "documentId": document.document_id,
            "externalReference": document.external_reference,
            "documentState": "Accepted",
        },
    )
    assert deliver(client, sandbox, event).status_code == 202
    drain(app)
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.ACCEPTED
    assert deposit.document_id == document.document_id
    assert len(sandbox.state.documents()) == 1


def test_two_senders_racing_for_one_queue_send_each_deposit_once(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    ids = queue(app, organization, count=24)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def race(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            Sender(app, name=name).run_once()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=race, args=(f"racer-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    drain(app)  # SQLite may have turned a racer away with "database is locked": finish up
    assert_each_sent_exactly_once(sandbox, ids)
    assert {db.session.get(Deposit, i).attempts for i in ids} == {1}


def _worker_process(
    database_url: str, app: Flask, sandbox: Any, **settings: str
) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        **settings,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "worker-test",
        "PORTAL_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "PORTAL_STORAGE_DIR": app.config["STORAGE_DIR"],
        "PORTAL_ONECONNECT_API_BASE": sandbox.api_base,
        "PORTAL_ONECONNECT_TOKEN_URL": sandbox.token_url,
        "PORTAL_ONECONNECT_JWKS_URL": sandbox.jwks_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "worker", "--poll", "0.1"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_worker_killed_in_the_middle_of_a_send_is_taken_over_without_a_duplicate(
    app: Flask, sandbox: Any, organization: Organization, database_url: str
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.hang_next(3.0)  # the upstream holds the call, then carries it out
    lease = {"PORTAL_SENDER_LEASE_SECONDS": "6"}
    worker = _worker_process(database_url, app, sandbox, **lease)
    try:
        _wait_for(lambda: db.session.get(Deposit, deposit_id).answer_pending)
        time.sleep(0.3)  # the request is on the wire
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        stuck = db.session.get(Deposit, deposit_id)
        assert stuck.status is DepositStatus.QUEUED and stuck.claimed_by is not None
        assert stuck.claim_expires_at <= utcnow() + timedelta(seconds=6)
        replacement = _worker_process(database_url, app, sandbox, **lease)
        try:
            # Taken over once the dead worker's lease has run out: seconds, not minutes.
            _wait_for(lambda: db.session.get(Deposit, deposit_id).status is DepositStatus.SENT)
        finally:
            replacement.send_signal(signal.SIGTERM)
            replacement.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    time.sleep(3.2)  # let the first, held call finish upstream before counting documents
    assert_each_sent_exactly_once(sandbox, [deposit_id])


def test_admins_see_the_queue_depth_and_the_oldest_waiting_deposit(
    app: Flask, organization: Organization, client, login_as
) -> None:
    first, _ = queue(app, organization, count=2)
    stats = delivery.queue_stats()
    assert stats.depth == 2 and stats.oldest.id == first
    from portal.models import Role

    login_as(factories.user(role=Role.ADMIN))
    page = client.get("/admin/").get_data(as_text=True)
    assert "2 deposits wait to be sent to OneConnect." in page
    assert f'href="/deposits/{first}"' in page


def test_deposits_and_revocations_are_audited(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    from portal import audit
    from portal.models import AuditEvent

    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.revoke_integration(organization.integration_id, "SMB Closed")
    drain(app)
    actions = [
        (e.action, e.target_id)
        for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    assert (audit.DEPOSIT_CREATED, str(deposit_id)) in actions
    assert (audit.ORGANIZATION_REVOKED, str(organization.id)) in actions


def test_a_stored_file_that_vanished_fails_the_deposit_with_a_clear_reason(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    FileStore(app.config["STORAGE_DIR"]).delete(db.session.get(Deposit, deposit_id).storage_key)
    drain(app)
    deposit = db.session.get(Deposit, deposit_id)
    assert deposit.status is DepositStatus.FAILED
    assert "could not read the stored invoice file" in str(deposit.last_error)
    assert sandbox.state.documents() == []


def test_an_unreadable_answer_then_a_retry_recognises_our_own_document(
    app: Flask, sandbox: Any, organization: Organization, client, login_as
) -> None:
    """A 3xx (never followed) may hide a carried-out import: the 409 on retry is ours."""
    [deposit_id] = queue(app, organization, count=1)
    deposit = db.session.get(Deposit, deposit_id)
    sandbox.state.faults.redirect_next("http://127.0.0.1:9/elsewhere")
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.FAILED and deposit.maybe_delivered
    # As if that attempt had been carried out upstream after all:
    secret = app.extensions["secret_box"].decrypt(organization.integration_secret_encrypted)
    carried_out = app.extensions["oneconnect"].import_invoice(
        organization.integration_id,
        secret,
        "purchase",
        file=PDF,
        filename="invoice.pdf",
        media_type="application/pdf",
        external_reference=deposit.external_reference,
    )
    login_as(deposit.created_by)
    client.post(f"/deposits/{deposit_id}/retry")
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.SENT
    assert deposit.document_id == carried_out.document_id


def test_refused_partner_credentials_keep_deposits_waiting(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.fail_next(1, target=Target.TOKEN, status=401)
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.QUEUED
    assert "partner credentials" in str(deposit.last_error)
    drain(app)
    assert_each_sent_exactly_once(sandbox, [deposit_id])


def test_a_retry_after_beyond_the_window_still_leaves_a_last_attempt(
    app: Flask, sandbox: Any, organization: Organization
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    queued_at = utcnow() - timedelta(hours=23)
    db.session.execute(update(Deposit).where(Deposit.id == deposit_id).values(queued_at=queued_at))
    db.session.commit()
    sandbox.state.faults.fail_next(1, status=503, retry_after=86_400)
    Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.QUEUED
    assert deposit.next_attempt_at == queued_at + delivery.timing().window
