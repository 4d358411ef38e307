"""What an operator sees: a JSON line per request, attempt and webhook, with no secret in any;
Prometheus metrics behind a token; readiness that shows a dead sender."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.deposits.worker import Sender
from portal.extensions import db
from portal.observability import logs
from tests import factories
from tests.app.test_delivery import assert_each_sent_exactly_once, queue
from tests.conftest import app_config

TOKEN = "scrape-token-for-the-tests"


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    app = create_app(
        app_config(database_url, tmp_path, sandbox, METRICS_TOKEN=TOKEN, SENDER_IN_PROCESS=False)
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def organization(app: Flask, sandbox: Any) -> Any:
    integration_id, secret = sandbox.state.create_integration("Journal SARL")
    return factories.organization(factories.user(), integration_id=integration_id, secret=secret)


def records(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage() == message]


def test_each_request_is_one_line_under_a_request_id_sent_back(
    client: FlaskClient, login_as: Any, caplog: pytest.LogCaptureFixture
) -> None:
    user = factories.user()
    login_as(user)
    with caplog.at_level(logging.INFO, logger="portal.requests"):
        answer = client.get("/organizations/", headers={"X-Request-ID": "proxy-7f3a9c21"})
        fresh = client.get("/organizations/", headers={"X-Request-ID": "bad id; forged"})

    lines = {record.request_id: record for record in records(caplog, "request")}
    first = lines["proxy-7f3a9c21"]
    second = lines[fresh.headers["X-Request-ID"]]
    assert answer.headers["X-Request-ID"] == "proxy-7f3a9c21" == first.request_id
    assert (first.route, first.method, first.status, first.user_id) == (
        "organizations.index",
        "GET",
        200,
        user.id,
    )
    assert first.duration_ms >= 0
    assert second.request_id == fresh.headers["X-Request-ID"] != "bad id; forged"
    assert len(second.request_id) == 32


def test_a_delivery_attempt_is_one_line_naming_its_worker(
    app: Flask, organization: Any, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    [deposit_id] = queue(app, organization, count=1)
    sandbox.state.faults.fail_next(1)
    with caplog.at_level(logging.INFO, logger="portal.deposits.delivery"):
        Sender(app, name="host-a:41:9").run_once()
    [attempt] = records(caplog, "delivery attempt")
    assert (attempt.deposit_id, attempt.attempt, attempt.outcome, attempt.upstream_status) == (
        deposit_id,
        1,
        "unavailable",
        503,
    )
    assert attempt.worker == "host-a:41:9"


def test_a_webhook_is_one_line_with_its_answer(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.webhooks.views"):
        client.post("/webhooks/one-connect", data=b"{}", content_type="application/json")
    [line] = records(caplog, "webhook")
    assert (line.status, line.outcome) == (401, "refused")


def test_lines_are_json_and_secrets_are_masked_if_code_ever_logs_one() -> None:
    redactor = logs.Redactor(["the-integration-secret"])
    record = logging.LogRecord(
        "portal.x",
        logging.INFO,
        __file__,
        1,
        "sent %s with Bearer abc.def-ghi",
        ("the-integration-secret",),
        None,
    )
    record.header = "password=hunter2hunter2"
    redactor.filter(record)
    assert record.getMessage() == "sent [masked] with Bearer [masked]"
    assert record.header == "password=[masked]"
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "portal-json")
    line = json.loads(handler.format(record))
    assert line["message"] == "sent [masked] with Bearer [masked]"
    assert line["level"] == "INFO" and line["logger"] == "portal.x" and "time" in line


def test_metrics_need_the_token_and_count_what_happens(
    app: Flask, client: FlaskClient, organization: Any, sandbox: Any
) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401 and TOKEN not in wrong.get_data(as_text=True)

    def scrape() -> str:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    def value(text: str, name: str) -> float:
        found = [line for line in text.splitlines() if line.startswith(name + " ")]
        return float(found[0].split()[-1]) if found else 0.0

    ids = queue(app, organization, count=2)
    before = scrape()
    assert value(before, "portal_queue_depth") == 2
    Sender(app).run_once()
    after = scrape()
    assert_each_sent_exactly_once(sandbox, ids)
    assert value(after, "portal_queue_depth") == 0
    sent = 'portal_delivery_attempts_total{outcome="sent"}'
    assert value(after, sent) - value(before, sent) == 2
    assert 'portal_request_seconds_bucket{endpoint="observability.metrics"' in after


def test_metrics_are_not_published_without_a_token(
    database_url: str, tmp_path: Path, sandbox: Any
) -> None:
    app = create_app(app_config(database_url, tmp_path, sandbox))
    assert app.test_client().get("/metrics").status_code == 404


def test_readiness_shows_a_missing_sender_then_the_one_that_runs(
    app: Flask, client: FlaskClient, organization: Any
) -> None:
    assert client.get("/healthz").status_code == 200
    missing = client.get("/readyz")
    assert missing.status_code == 503
    assert missing.get_json()["checks"]["senders"] == "none seen in the last minute"

    queue(app, organization, count=1)
    Sender(app, name="worker-1").run_once()  # beats, then reaches OneConnect
    Sender(app, name="worker-1").run_once()  # within ten seconds: no second write

    ready = client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.get_json()["checks"]
    assert [sender["name"] for sender in checks["senders"]] == ["worker-1"]
