"""OneConnect's webhooks: verified, stored once, applied in event-time order."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    OrganizationStatus,
    OutgoingMail,
    ProcessingOutcome,
    WebhookEvent,
)
from portal.oneconnect import spec
from tests import factories

URL = "/webhooks/one-connect"
NOW = datetime.now(UTC)


def cloud_event(
    event_type: str,
    data: dict[str, Any],
    *,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "https://api.oneconnect.shine.co",
        "type": event_type,
        "datacontenttype": "application/json",
        "time": (time or NOW).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def decision(deposit: Deposit, state: str, **extra: Any) -> dict[str, Any]:
    data = {
        "integrationId": deposit.organization.integration_id,
        "documentId": deposit.document_id,
        "externalReference": deposit.external_reference,
        "documentState": state,
    }
    data.update(extra.pop("data", {}))
    return cloud_event(spec.EVENT_DOCUMENT_STATUS, data, **extra)


def deliver(
    client: FlaskClient, sandbox, event: dict[str, Any] | bytes, *, token: str | None = None
):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE}
    headers["Authorization"] = f"Bearer {token if token is not None else sandbox.state.sign(body)}"
    return client.post(URL, data=body, headers=headers)


@pytest.fixture
def sent(app: Flask, sandbox) -> Deposit:
    integration_id, secret = sandbox.state.create_integration("Co")
    organization = factories.organization(
        factories.user(), integration_id=integration_id, secret=secret
    )
    return factories.deposit(organization, status=DepositStatus.SENT, document_id=str(uuid.uuid4()))


def test_an_accepted_event_moves_the_deposit_to_accepted(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    response = deliver(client, sandbox, decision(sent, "Accepted"))
    assert response.status_code == 202
    db.session.refresh(sent)
    assert sent.status is DepositStatus.ACCEPTED
    stored = db.session.scalars(select(WebhookEvent)).one()
    assert stored.outcome is ProcessingOutcome.APPLIED
    assert stored.deposit_id == sent.id
    assert stored.verification.code == "webhook.verified" and stored.verification.params["kid"]


def test_a_refusal_records_its_reason(client: FlaskClient, sandbox, sent: Deposit) -> None:
    deliver(
        client, sandbox, decision(sent, "Refused", data={"rejectionReason": "Missing VAT number"})
    )
    db.session.refresh(sent)
    assert sent.status is DepositStatus.REFUSED
    assert sent.rejection_reason == "Missing VAT number"


def test_a_repeated_event_id_is_acknowledged_and_changes_nothing(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    event = decision(sent, "Accepted")
    assert deliver(client, sandbox, event).status_code == 202
    sent.status = DepositStatus.SENT  # pretend someone reset it: a repeat must not apply again
    db.session.commit()
    response = deliver(client, sandbox, event)
    assert response.status_code == 200
    assert response.json == {"status": "duplicate"}
    db.session.refresh(sent)
    assert sent.status is DepositStatus.SENT
    assert len(db.session.scalars(select(WebhookEvent)).all()) == 1


def test_one_event_delivered_twice_at_the_same_moment_is_applied_once(
    app: Flask, sandbox, sent: Deposit
) -> None:
    """The event is applied before it is written: the delivery that loses the race on its id
    undoes all it applied (the deposit's story, the refusal e-mail) and answers duplicate."""
    sent.created_by = factories.user(email="depositor@example.test")  # told of the refusal
    db.session.commit()
    body = json.dumps(decision(sent, "Refused", data={"rejectionReason": "No VAT"})).encode()
    token = sandbox.state.sign(body)
    # The keys fetched first: on a cold cache one of two deliveries would be asked to come back.
    app.extensions["oneconnect_jwks"].key_for(jwt.get_unverified_header(token)["kid"])
    start = threading.Barrier(2)

    def delivery() -> int:
        start.wait()
        return deliver(app.test_client(), sandbox, body, token=token).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = sorted(pool.map(lambda _: delivery(), range(2)))
    assert answers == [200, 202]
    db.session.expire_all()
    assert db.session.get(Deposit, sent.id).status is DepositStatus.REFUSED
    assert len(db.session.scalars(select(WebhookEvent)).all()) == 1
    story = db.session.scalars(select(DepositEvent).where(DepositEvent.deposit_id == sent.id))
    assert [step.kind for step in story] == [DepositEventKind.REFUSED]
    assert len(db.session.scalars(select(OutgoingMail)).all()) == 1


def test_an_older_event_never_overwrites_a_newer_state(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    deliver(client, sandbox, decision(sent, "Refused", time=NOW, data={"rejectionReason": "late"}))
    deliver(client, sandbox, decision(sent, "Accepted", time=NOW - timedelta(minutes=5)))
    db.session.refresh(sent)
    assert sent.status is DepositStatus.REFUSED
    outcomes = [
        e.outcome for e in db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))
    ]
    assert outcomes == [ProcessingOutcome.APPLIED, ProcessingOutcome.STALE]


def test_a_newer_event_replaces_an_older_decision(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    deliver(client, sandbox, decision(sent, "Refused", time=NOW - timedelta(minutes=5)))
    deliver(client, sandbox, decision(sent, "Accepted", time=NOW))
    db.session.refresh(sent)
    assert sent.status is DepositStatus.ACCEPTED
    assert sent.rejection_reason is None


@pytest.mark.parametrize("order", ["accepted first", "refused first"])
def test_at_the_same_time_refused_wins_over_accepted(
    client: FlaskClient, sandbox, sent: Deposit, order: str
) -> None:
    accepted = decision(sent, "Accepted", time=NOW, event_id="ffffffff-0000-0000-0000-000000000000")
    refused = decision(sent, "Refused", time=NOW, event_id="00000000-0000-0000-0000-000000000000")
    for event in [accepted, refused] if order == "accepted first" else [refused, accepted]:
        deliver(client, sandbox, event)
    db.session.refresh(sent)
    assert sent.status is DepositStatus.REFUSED


def test_at_the_same_time_and_state_the_larger_event_id_wins(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    larger = decision(sent, "Refused", time=NOW, event_id="b", data={"rejectionReason": "from b"})
    smaller = decision(sent, "Refused", time=NOW, event_id="a", data={"rejectionReason": "from a"})
    deliver(client, sandbox, larger)
    deliver(client, sandbox, smaller)
    db.session.refresh(sent)
    assert sent.rejection_reason == "from b"


def test_a_revocation_marks_the_organization_revoked_and_stops_deposits(
    client: FlaskClient, sandbox, sent: Deposit, login_as
) -> None:
    organization = sent.organization
    event = cloud_event(
        spec.EVENT_REVOCATION,
        {"integrationId": organization.integration_id, "reason": "CPA Closed"},
    )
    assert deliver(client, sandbox, event).status_code == 202
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.REVOKED
    assert organization.revocation_reason == "CPA Closed"
    assert organization.revoked_at is not None
    owner = organization.memberships[0].user
    login_as(owner)
    page = client.get(f"/organizations/{organization.id}/deposits/new").get_data(as_text=True)
    assert "was revoked (the accounting firm closed the file)" in page
    assert 'name="invoice_file"' not in page


def test_unknown_event_types_are_stored_and_acknowledged(client: FlaskClient, sandbox) -> None:
    response = deliver(client, sandbox, cloud_event("InvoicePaid", {"anything": 1}))
    assert response.status_code == 202
    assert db.session.scalars(select(WebhookEvent)).one().outcome is ProcessingOutcome.UNKNOWN_TYPE


def test_an_event_for_a_document_not_yet_recorded_is_kept_then_applied(
    app: Flask, client: FlaskClient, sandbox
) -> None:
    integration_id, secret = sandbox.state.create_integration("Racer")
    organization = factories.organization(
        factories.user(), integration_id=integration_id, secret=secret
    )
    deposit = factories.deposit(organization, status=DepositStatus.QUEUED, attempts=0)
    early = cloud_event(
        spec.EVENT_DOCUMENT_STATUS,
        {"integrationId": integration_id, "documentId": "doc-early", "documentState": "Accepted"},
    )
    deliver(client, sandbox, early)
    assert (
        db.session.scalars(select(WebhookEvent)).one().outcome is ProcessingOutcome.UNKNOWN_DOCUMENT
    )

    from portal.deposits import delivery

    deposit.document_id = "doc-early"  # as if the upstream answered with this id
    delivery._record_sent(deposit, "doc-early")
    db.session.commit()
    from portal.webhooks.services import apply_waiting_events

    apply_waiting_events(deposit)
    db.session.refresh(deposit)
    assert deposit.status is DepositStatus.ACCEPTED


@pytest.mark.parametrize(
    "forge",
    [
        "no header",
        "not bearer",
        "garbage token",
        "wrong key",
        "body changed",
        "stale iat",
        "future iat",
        "string iat",
        "no kid",
        "unknown kid",
        "alg none",
    ],
)
def test_a_forged_delivery_is_refused_with_401_and_changes_nothing(
    client: FlaskClient, sandbox, sent: Deposit, forge: str
) -> None:
    event = decision(sent, "Refused", data={"rejectionReason": "forged"})
    body = json.dumps(event).encode()
    digest = hashlib.sha256(body).hexdigest()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = sandbox.state.jwks()["keys"][0]["kid"]
    now = int(datetime.now(UTC).timestamp())
    headers = {"Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE}
    if forge == "not bearer":
        headers["Authorization"] = f"Basic {sandbox.state.sign(body)}"
    elif forge == "garbage token":
        headers["Authorization"] = "Bearer not.a.jws"
    elif forge == "wrong key":
        headers["Authorization"] = "Bearer " + jwt.encode(
            {"iat": now, spec.BODY_HASH_CLAIM: digest}, stranger, "RS256", headers={"kid": kid}
        )
    elif forge == "body changed":
        headers["Authorization"] = f"Bearer {sandbox.state.sign(body)}"
        body = body.replace(b"forged", b"FORGED")
    elif forge == "stale iat":
        headers["Authorization"] = f"Bearer {sandbox.state.sign(body, issued_at=now - 310)}"
    elif forge == "future iat":
        headers["Authorization"] = f"Bearer {sandbox.state.sign(body, issued_at=now + 310)}"
    elif forge == "string iat":
        token = sandbox.state.sign(body)
        header = jwt.get_unverified_header(token)
        headers["Authorization"] = "Bearer " + _resign_with_claims(
            sandbox, {"iat": str(now), spec.BODY_HASH_CLAIM: digest}, header["kid"]
        )
    elif forge == "no kid":
        headers["Authorization"] = "Bearer " + _resign_with_claims(
            sandbox, {"iat": now, spec.BODY_HASH_CLAIM: digest}, None
        )
    elif forge == "unknown kid":
        headers["Authorization"] = "Bearer " + jwt.encode(
            {"iat": now, spec.BODY_HASH_CLAIM: digest},
            stranger,
            "RS256",
            headers={"kid": "who-knows"},
        )
    elif forge == "alg none":
        headers["Authorization"] = "Bearer " + jwt.encode(
            {"iat": now, spec.BODY_HASH_CLAIM: digest}, None, "none", headers={"kid": kid}
        )
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 401
    db.session.refresh(sent)
    assert sent.status is DepositStatus.SENT
    assert db.session.scalars(select(WebhookEvent)).first() is None


def _resign_with_claims(sandbox, claims: dict[str, Any], kid: str | None) -> str:
    """Sign arbitrary claims with the sandbox's real key (to forge only the claims)."""
    from portal.sandbox.models import SigningKey

    with sandbox.state._transaction() as session:
        key = session.scalars(select(SigningKey)).first()
        pem = key.private_pem
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(pem.encode(), password=None)
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims, private, "RS256", headers=headers)


def test_the_body_hash_is_compared_case_insensitively(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    body = json.dumps(decision(sent, "Accepted")).encode()
    kid = sandbox.state.jwks()["keys"][0]["kid"]
    claims = {
        "iat": int(datetime.now(UTC).timestamp()),
        spec.BODY_HASH_CLAIM: hashlib.sha256(body).hexdigest().upper(),
    }
    token = _resign_with_claims(sandbox, claims, kid)
    response = client.post(URL, data=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps(
            {
                "specversion": "0.3",
                "id": "x",
                "source": "s",
                "type": "t",
                "time": "2026-01-01T00:00:00Z",
                "data": {},
            }
        ).encode(),
        json.dumps(
            {
                "specversion": "1.0",
                "source": "s",
                "type": "t",
                "time": "2026-01-01T00:00:00Z",
                "data": {},
            }
        ).encode(),
        json.dumps(
            {
                "specversion": "1.0",
                "id": "x",
                "source": "s",
                "type": "t",
                "time": "yesterday",
                "data": {},
            }
        ).encode(),
    ],
)
def test_a_signed_body_that_is_not_a_cloudevent_gets_400(
    client: FlaskClient, sandbox, body: bytes
) -> None:
    response = deliver(client, sandbox, body)
    assert response.status_code == 400
    assert db.session.scalars(select(WebhookEvent)).first() is None


def test_no_verification_key_to_be_had_answers_503_with_retry_after(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    body = json.dumps(decision(sent, "Accepted")).encode()
    token = sandbox.state.sign(body)
    sandbox.stop()  # the JWKS cannot be fetched and nothing is cached yet
    response = client.post(URL, data=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    db.session.refresh(sent)
    assert sent.status is DepositStatus.SENT


def test_the_webhook_needs_no_csrf_token_but_other_posts_do(
    app: Flask, client: FlaskClient, sandbox, sent: Deposit
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert deliver(client, sandbox, decision(sent, "Accepted")).status_code == 202


def test_health_check_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_differently_named_rejection_member_and_state_case_are_understood(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    event = decision(sent, "REFUSED", data={"rejectionMessage": "Unreadable scan"})
    deliver(client, sandbox, event)
    db.session.refresh(sent)
    assert sent.status is DepositStatus.REFUSED
    assert sent.rejection_reason == "Unreadable scan"


def test_a_signed_event_with_an_out_of_range_time_is_refused_not_an_error(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    event = decision(sent, "Accepted")
    event["time"] = "9999-12-31T23:59:59-01:00"
    response = deliver(client, sandbox, event)
    assert response.status_code == 400
    assert db.session.scalars(select(WebhookEvent)).all() == []


def test_a_chunked_body_is_capped_like_any_other(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    event = decision(sent, "Accepted", data={"padding": "x" * 3_000_000})
    body = json.dumps(event).encode()
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),  # no Content-Length: the body arrives chunked
        headers={
            "Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE,
            "Authorization": f"Bearer {sandbox.state.sign(body)}",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert db.session.scalars(select(WebhookEvent)).all() == []
