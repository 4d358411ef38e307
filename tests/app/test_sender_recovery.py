"""After an outage the queue drains in seconds; an admin can send everything waiting at once;
each attempt's step names the sender that made it."""

from __future__ import annotations

import socket
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import audit
from portal.deposits.worker import Sender
from portal.extensions import db
from portal.models import AuditEvent, Deposit, DepositEventKind, DepositStatus, Role, utcnow
from tests import factories
from tests.app.test_delivery import assert_each_sent_exactly_once, organization, queue
from tests.app.test_deposits import deposit_form, send

__all__ = ["organization"]


def waiting_after_an_outage(app: Flask, organization: Any, sandbox: Any, count: int) -> list[int]:
    """Deposits that each failed a few attempts during an outage, now waiting minutes ahead."""
    ids = queue(app, organization, count=count)
    sandbox.state.faults.fail_next(3 * count)
    sender = Sender(app, name="outage-sender")
    for _ in range(3):
        db.session.execute(
            Deposit.__table__.update()
            .where(Deposit.status == DepositStatus.QUEUED)
            .values(next_attempt_at=utcnow())
        )
        db.session.commit()
        sender.run_once()
    db.session.expire_all()
    for deposit_id in ids:
        deposit = db.session.get(Deposit, deposit_id)
        assert deposit.status is DepositStatus.QUEUED and deposit.attempts == 3
        assert deposit.next_attempt_at > utcnow()
    return ids


def test_once_oneconnect_answers_again_the_integrations_waiting_deposits_go_at_once(
    app: Flask, organization: Any, sandbox: Any
) -> None:
    waiting = waiting_after_an_outage(app, organization, sandbox, count=4)
    sandbox.state.faults.clear()
    [fresh] = queue(app, organization, count=1)  # the first call since the outage

    Sender(app, name="after-the-outage").run_once()  # sends the fresh one, pulls the others
    Sender(app, name="after-the-outage").run_once()

    assert_each_sent_exactly_once(sandbox, [*waiting, fresh])


def test_another_integrations_success_does_not_pull_a_failing_ones_deposits(
    app: Flask, organization: Any, sandbox: Any
) -> None:
    waiting = waiting_after_an_outage(app, organization, sandbox, count=2)
    integration_id, secret = sandbox.state.create_integration("Autre SARL")
    other = factories.organization(factories.user(), integration_id=integration_id, secret=secret)
    sandbox.state.faults.clear()
    queue(app, other, count=1)
    Sender(app).run_once()
    db.session.expire_all()
    for deposit_id in waiting:
        assert db.session.get(Deposit, deposit_id).next_attempt_at > utcnow()


def test_an_admin_sends_everything_waiting_now(
    app: Flask, client: FlaskClient, login_as, organization: Any, sandbox: Any
) -> None:
    waiting = waiting_after_an_outage(app, organization, sandbox, count=3)
    sandbox.state.faults.clear()
    admin = factories.user(role=Role.ADMIN)
    login_as(admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Send all waiting now" in page

    response = client.post("/admin/queue/send-now", follow_redirects=True)

    assert "3 waiting deposits go to OneConnect in the next moments." in response.get_data(
        as_text=True
    )
    Sender(app).run_once()
    assert_each_sent_exactly_once(sandbox, waiting)
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.QUEUE_SENT_NOW)
    ).all()
    assert event.actor_id == admin.id and event.detail == {"deposits": 3}


def test_each_attempts_step_names_the_sender_and_admins_see_it(
    app: Flask, client: FlaskClient, login_as, organization: Any, sandbox: Any
) -> None:
    member = organization.memberships[0].user
    login_as(member)
    sandbox.state.faults.fail_next(1)
    response = send(client, organization, deposit_form())  # the request's attempt fails
    deposit = db.session.scalars(select(Deposit)).one()
    db.session.execute(
        Deposit.__table__.update().where(Deposit.id == deposit.id).values(next_attempt_at=utcnow())
    )
    db.session.commit()
    Sender(app, name="worker-7@batch-host").run_once()

    db.session.expire_all()
    steps = {event.kind: event.made_by for event in db.session.get(Deposit, deposit.id).events}
    assert steps[DepositEventKind.QUEUED] is None  # the user's, not an attempt's
    assert steps[DepositEventKind.ATTEMPT_FAILED].startswith(f"web@{socket.gethostname()}:")
    assert steps[DepositEventKind.SENT] == "worker-7@batch-host"

    location = response.headers["Location"]
    assert "worker-7@batch-host" not in client.get(location).get_data(as_text=True)
    login_as(factories.user(role=Role.ADMIN))
    assert "by worker-7@batch-host" in client.get(location).get_data(as_text=True)
