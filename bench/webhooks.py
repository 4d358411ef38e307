"""Signed webhook ingest for `make bench`: OneConnect's decisions for deposits the portal sent,
delivered several at a time to the portal served by gunicorn, against the anchor's endpoint that
only parses the same JSON. Each event is checked afterwards: stored once, applied once.

The signatures come from the built-in sandbox (its keys, its JWKS served on a real port, as the
real OneConnect serves them), so the portal verifies every delivery as in production.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.seeding import insert_deposits
from bench.servers import Client
from portal.extensions import db
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    Organization,
    WebhookEvent,
)
from portal.oneconnect import spec
from portal.sandbox.state import SandboxState

AT_ONCE = 4  # deliveries in flight together, as OneConnect's retries and bursts make them
HEADERS = {"Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE}


@dataclass(frozen=True)
class Delivery:
    body: bytes
    token: str


@contextmanager
def sandbox() -> Iterator[tuple[SandboxState, str]]:
    """The built-in sandbox on a free port: its state (to sign) and its JWKS address."""
    from portal.sandbox import create_sandbox_app
    from portal.sandbox.api import JWKS_PATH
    from tests.support.serving import BackgroundServer

    app = create_sandbox_app({"SANDBOX_DECISION_DELAY": None})
    server = BackgroundServer(app, name="bench-sandbox")
    try:
        yield app.extensions["sandbox"], server.url + JWKS_PATH
    finally:
        server.stop()
        app.extensions["sandbox"].close()


def seed(state: SandboxState, box: object, count: int, first: int) -> list[Delivery]:
    """An organization connected to the sandbox with `count` sent deposits, and one signed
    decision for each (one in five a refusal with its reason)."""
    integration_id, secret = state.create_integration("Webhooks SAS")
    organization = Organization(
        name="Webhooks SAS",
        integration_id=integration_id,
        integration_secret_encrypted=box.encrypt(secret),  # type: ignore[attr-defined]
    )
    db.session.add(organization)
    db.session.commit()
    documents = [str(uuid.uuid4()) for _ in range(count)]
    insert_deposits(
        count,
        lambda n: {
            "organization_id": organization.id,
            "status": DepositStatus.SENT.value,
            "document_id": documents[n - first],
            "external_reference": f"HOOK-{n}",
        },
        first=first,
    )
    deliveries = []
    for n, document in enumerate(documents):
        refused = n % 5 == 0
        data = {
            "integrationId": integration_id,
            "documentId": document,
            "externalReference": f"HOOK-{first + n}",
            "documentState": spec.DOCUMENT_REFUSED if refused else spec.DOCUMENT_ACCEPTED,
        }
        if refused:
            data[spec.REJECTION_REASON_MEMBER] = "Numéro de TVA absent"
        body = json.dumps(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "https://api.oneconnect.shine.co",
                "type": spec.EVENT_DOCUMENT_STATUS,
                "datacontenttype": "application/json",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "data": data,
            }
        ).encode()
        deliveries.append(Delivery(body, state.sign(body)))
    return deliveries


def seconds_per_event(port: int, path: str, deliveries: list[Delivery], signed: bool) -> float:
    """Wall-clock seconds per delivery, AT_ONCE in flight; every answer must be a success."""

    def deliver(delivery: Delivery) -> int:
        headers = HEADERS | ({"Authorization": f"Bearer {delivery.token}"} if signed else {})
        return Client(port).request("POST", path, delivery.body, headers)[0]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        answers = list(pool.map(deliver, deliveries))
    elapsed = time.perf_counter() - started
    wrong = [status for status in answers if status not in (200, 202)]
    if wrong:
        raise RuntimeError(f"{len(wrong)} deliveries answered {sorted(set(wrong))}")
    return elapsed / len(deliveries)


def accounted_for(deliveries: list[Delivery]) -> str:
    """Every event stored once and applied once: its deposit decided, one step in its story."""
    events = db.session.scalar(select(func.count(WebhookEvent.id)))
    decided = db.session.scalar(
        select(func.count(Deposit.id)).where(
            Deposit.status.in_((DepositStatus.ACCEPTED, DepositStatus.REFUSED)),
            Deposit.external_reference.like("HOOK-%"),
        )
    )
    steps = db.session.scalar(
        select(func.count(DepositEvent.id)).where(
            DepositEvent.kind.in_((DepositEventKind.ACCEPTED, DepositEventKind.REFUSED))
        )
    )
    expected = len(deliveries)
    if (events, decided, steps) != (expected, expected, expected):
        raise RuntimeError(
            f"{expected} events: {events} stored, {decided} deposits decided, {steps} steps"
        )
    return f"{expected:,} events: {events:,} stored, {decided:,} decided, {steps:,} steps"
