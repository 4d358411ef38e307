"""The OneConnect client against the sandbox (and a stub upstream) over real HTTP."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.oneconnect import spec
from portal.oneconnect.client import IntegrationStatus, OneConnectClient
from portal.oneconnect.errors import (
    AuthenticationFailed,
    DuplicateReference,
    IntegrationNotFound,
    IntegrationRevoked,
    OneConnectError,
    TransientError,
    UnexpectedResponse,
    ValidationFailed,
)
from portal.sandbox.faults import Target
from tests.support import samples
from tests.support.sandbox import SandboxServer
from tests.support.stub import StubServer

Integration = tuple[str, str]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send_pdf(client: OneConnectClient, integration: Integration, **parts: Any) -> str:
    integration_id, secret = integration
    result = client.import_invoice(
        integration_id,
        secret,
        parts.pop("kind", "purchase"),
        file=parts.pop("file", samples.PDF),
        filename=parts.pop("filename", "facture.pdf"),
        media_type="application/pdf",
        **parts,
    )
    return result.document_id


def test_import_sends_every_part_as_the_docs_describe(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    entries = samples.entries()
    document_id = send_pdf(
        client,
        integration,
        file=io.BytesIO(samples.PDF),
        filename="Facture électricité.pdf",
        user_email="marie@boulangerie-martin.fr",
        comment="Loyer de mars",
        external_reference="FA-2026:042_b",
        entries=entries,
        organization=samples.ORGANIZATION,
    )

    [received] = sandbox.state.documents()
    assert received.document_id == document_id
    assert received.integration_id == integration[0]
    assert received.kind == "purchase"
    assert received.filename == received.part_filename == "Facture électricité.pdf"
    assert received.media_type == "application/pdf"
    assert received.size == len(samples.PDF)
    assert received.user_email == "marie@boulangerie-martin.fr"
    assert received.comment == "Loyer de mars"
    assert received.external_reference == "FA-2026:042_b"
    # String parts holding compact JSON, not nested multipart and not files.
    assert received.entries_json == json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    assert received.entries == entries
    assert received.organization == samples.ORGANIZATION


def test_import_leaves_absent_optional_parts_out(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    send_pdf(client, integration, kind="sales")

    [received] = sandbox.state.documents()
    assert received.kind == "sales"
    assert (received.user_email, received.comment, received.external_reference) == (None,) * 3
    assert (received.entries, received.organization) == (None, None)


def test_unknown_invoice_kind_is_a_programming_error(
    client: OneConnectClient, integration: Integration
) -> None:
    with pytest.raises(ValueError, match="kind"):
        send_pdf(client, integration, kind="expense")


def test_token_is_fetched_once_and_reused(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    send_pdf(client, integration)
    client.integration_status(*integration)
    send_pdf(client, integration)

    assert sandbox.state.tokens_issued == 1


def test_token_is_renewed_once_80_percent_of_its_lifetime_has_passed(
    sandbox: SandboxServer, integration: Integration
) -> None:
    clock = FakeClock()
    with sandbox.client(clock=clock) as client:
        client.integration_status(*integration)
        clock.now += 3600 * spec.TOKEN_RENEWAL_FRACTION - 1
        client.integration_status(*integration)
        assert sandbox.state.tokens_issued == 1

        clock.now += 1
        client.integration_status(*integration)
        assert sandbox.state.tokens_issued == 2


def test_token_forgotten_upstream_is_renewed_and_the_call_retried_once(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    client.integration_status(*integration)
    sandbox.state.expire_tokens()

    document_id = send_pdf(client, integration, file=io.BytesIO(samples.PDF))

    assert sandbox.state.tokens_issued == 2
    [received] = sandbox.state.documents()
    # The file object was read again from its start for the retry.
    assert (received.document_id, received.size) == (document_id, len(samples.PDF))


def test_wrong_integration_secret_fails_after_one_renewal(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    with pytest.raises(AuthenticationFailed) as raised:
        client.integration_status(integration[0], "not-the-secret")

    assert raised.value.status == 401
    assert sandbox.state.tokens_issued == 2


def test_secret_with_spaces_is_refused_before_anything_is_sent(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    with pytest.raises(AuthenticationFailed, match="Copy it again"):
        client.integration_status(integration[0], "two words\r\n")

    assert sandbox.state.tokens_issued == 0


@pytest.mark.parametrize(
    ("client_id", "client_secret", "scope"),
    [
        ("someone-else", "portal-sandbox-secret", "oneconnect"),
        ("portal-sandbox-client", "wrong", "oneconnect"),
        ("portal-sandbox-client", "portal-sandbox-secret", "admin"),
    ],
)
def test_refused_partner_credentials_fail_authentication(
    sandbox: SandboxServer, integration: Integration, client_id: str, client_secret: str, scope: str
) -> None:
    with (
        OneConnectClient(
            sandbox.token_url, sandbox.api_base, client_id, client_secret, scope
        ) as client,
        pytest.raises(AuthenticationFailed, match="partner credentials"),
    ):
        client.integration_status(*integration)


def test_validation_error_carries_the_upstream_detail(
    client: OneConnectClient, integration: Integration
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        send_pdf(client, integration, filename="facture.docx")

    assert "filename" in raised.value.detail
    assert str(raised.value).startswith("OneConnect refused the file: filename")


def test_duplicate_reference_names_existing_document_and_date(
    client: OneConnectClient, integration: Integration
) -> None:
    first = send_pdf(client, integration, external_reference="INV-1")

    with pytest.raises(DuplicateReference) as raised:
        send_pdf(client, integration, kind="sales", external_reference="INV-1")

    assert raised.value.document_id == first
    deposit_date = raised.value.deposit_date
    assert deposit_date is not None
    assert abs(datetime.now(UTC) - deposit_date) < timedelta(minutes=1)


def test_business_error_revokes_and_later_calls_name_the_reason(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    sandbox.state.set_business_error(integration[0], spec.SMB_CLOSED)

    with pytest.raises(IntegrationRevoked) as first:
        send_pdf(client, integration)
    with pytest.raises(IntegrationRevoked) as later:
        send_pdf(client, integration)

    assert (first.value.status, first.value.error_code) == (400, spec.SMB_CLOSED)
    assert first.value.reason == "SMB Closed"
    assert (later.value.status, later.value.reason) == (401, "SMB Closed")
    assert later.value.error_code == spec.SMB_CLOSED
    assert "SMB Closed" in str(later.value)
    assert client.integration_status(*integration) == IntegrationStatus(False, "SMB Closed")


def test_status_of_an_active_integration(
    client: OneConnectClient, integration: Integration
) -> None:
    assert client.integration_status(*integration) == IntegrationStatus(True, None)


def test_revoke_then_status_reports_the_user_revocation(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    client.revoke(*integration)

    status = client.integration_status(*integration)
    assert status == IntegrationStatus(False, spec.USER_REVOCATION_REASON)
    with pytest.raises(IntegrationRevoked):
        client.revoke(*integration)
    assert [d.event_type for d in sandbox.state.deliveries()] == [spec.EVENT_REVOCATION]


def test_unknown_integration_is_not_found(client: OneConnectClient) -> None:
    with pytest.raises(IntegrationNotFound):
        client.integration_status("6f1c2a47-0d5e-4a55-9d3b-1f0b7c1a2e3f", "any-secret")


def test_unavailable_api_is_transient_with_its_retry_after(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    sandbox.state.faults.fail_next(1, status=503, retry_after=7)

    with pytest.raises(TransientError) as raised:
        send_pdf(client, integration)

    assert (raised.value.status, raised.value.retry_after) == (503, 7)
    assert sandbox.state.documents() == []
    send_pdf(client, integration)  # the fault was for one call only


def test_token_endpoint_down_is_transient(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer
) -> None:
    sandbox.state.faults.fail_next(1, target=Target.TOKEN, status=502)

    with pytest.raises(TransientError, match="sign-in"):
        client.integration_status(*integration)


def test_connection_refused_is_transient(integration: Integration) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{closed_port}"
    with (
        OneConnectClient(f"{base}/oauth2/token", f"{base}/v1", "id", "secret", "scope") as client,
        pytest.raises(TransientError, match="could not be reached"),
    ):
        client.integration_status(*integration)


def test_slow_answer_times_out_as_transient(
    sandbox: SandboxServer, integration: Integration, stub: StubServer
) -> None:
    stub.answer(200, json_body={"status": "active"}, delay=0.5)

    with (
        sandbox.client(api_base=stub.url, read_timeout=0.1) as client,
        pytest.raises(TransientError),
    ):
        client.integration_status(*integration)


def test_redirect_is_not_followed_and_the_secret_goes_nowhere_else(
    client: OneConnectClient, integration: Integration, sandbox: SandboxServer, stub: StubServer
) -> None:
    sandbox.state.faults.redirect_next(stub.url + "/v1/collect", status=307)

    with pytest.raises(UnexpectedResponse, match="redirection") as raised:
        send_pdf(client, integration)

    assert raised.value.status == 307
    assert stub.requests == []


def test_concurrent_calls_with_an_expired_token_fetch_exactly_one_new_token(
    sandbox: SandboxServer, integration: Integration
) -> None:
    clock = FakeClock()
    results: list[IntegrationStatus | BaseException] = []
    with sandbox.client(clock=clock) as client:
        client.integration_status(*integration)
        clock.now += 3600
        start = threading.Barrier(20)

        def call() -> None:
            start.wait()
            try:
                results.append(client.integration_status(*integration))
            except OneConnectError as error:
                results.append(error)

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

    assert results == [IntegrationStatus(True, None)] * 20
    assert sandbox.state.tokens_issued == 2


PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("status", "content_type", "body", "headers", "expected", "attributes"),
    [
        (
            400,
            PROBLEM,
            {"title": "Bad", "detail": "file: too big", "errorCode": "VALIDATION_ERROR"},
            {},
            ValidationFailed,
            {"detail": "file: too big"},
        ),
        (
            400,
            PROBLEM,
            {"title": "Closed", "status": 400, "errorCode": "CPA_CLOSED"},
            {},
            IntegrationRevoked,
            {"reason": "CPA Closed", "error_code": "CPA_CLOSED"},
        ),
        (400, "text/html", "<h1>Bad request</h1>", {}, UnexpectedResponse, {}),
        (
            401,
            PROBLEM,
            {"title": "Unauthorized", "detail": "Revocation reason: SMB not Found"},
            {},
            IntegrationRevoked,
            {"reason": "SMB not Found", "error_code": "SMB_NOTFOUND"},
        ),
        (401, "text/plain", "access revoked", {}, IntegrationRevoked, {"error_code": None}),
        (403, PROBLEM, {"title": "Forbidden"}, {}, UnexpectedResponse, {"status": 403}),
        (404, "text/plain", "no such integration", {}, IntegrationNotFound, {}),
        (
            409,
            PROBLEM,
            {
                "errorCode": "DUPLICATE_EXTERNAL_REFERENCE",
                "documentId": "0b8e5d3c-7a7d-4c2e-9a51-3e6f1b2c4d5e",
                "depositDate": "2026-03-09T10:15:00.000Z",
            },
            {},
            DuplicateReference,
            {
                "document_id": "0b8e5d3c-7a7d-4c2e-9a51-3e6f1b2c4d5e",
                "deposit_date": datetime(2026, 3, 9, 10, 15, tzinfo=UTC),
            },
        ),
        (418, PROBLEM, {"title": "Teapot"}, {}, UnexpectedResponse, {}),
        (
            429,
            PROBLEM,
            {"title": "Slow down"},
            {"Retry-After": "3"},
            TransientError,
            {"retry_after": 3},
        ),
        (502, "text/html", "<h1>Bad gateway</h1>", {}, TransientError, {"retry_after": None}),
        (301, "text/html", "", {"Location": "https://example.com/"}, UnexpectedResponse, {}),
        (200, "text/html", "<html>maintenance</html>", {}, UnexpectedResponse, {}),
        (200, "application/json", {"id": "no documentId"}, {}, UnexpectedResponse, {}),
    ],
)
def test_upstream_answers_map_to_typed_errors(
    sandbox: SandboxServer,
    integration: Integration,
    stub: StubServer,
    status: int,
    content_type: str,
    body: Any,
    headers: dict[str, str],
    expected: type[OneConnectError],
    attributes: dict[str, Any],
) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    stub.answer(status, body=raw, content_type=content_type, headers=headers)

    with sandbox.client(api_base=stub.url) as client, pytest.raises(expected) as raised:
        send_pdf(client, integration)

    for name, value in attributes.items():
        assert getattr(raised.value, name) == value
    assert str(raised.value)


def test_plain_401_is_retried_once_with_a_new_token(
    sandbox: SandboxServer, integration: Integration, stub: StubServer
) -> None:
    stub.answer(401, json_body={"title": "Unauthorized"}, content_type=PROBLEM)

    with sandbox.client(api_base=stub.url) as client, pytest.raises(AuthenticationFailed):
        send_pdf(client, integration)

    first, second = stub.wait_for(2)
    assert first.headers["Authorization"] != second.headers["Authorization"]
    assert len(stub.requests) == 2


def test_every_call_carries_token_secret_accept_and_no_redirect(
    sandbox: SandboxServer, integration: Integration, stub: StubServer
) -> None:
    stub.answer(200, json_body={"integrationId": integration[0], "status": "active"})

    with sandbox.client(api_base=stub.url + "/v1/") as client:
        client.integration_status(*integration)
        token = client.tokens.get()

    [request] = stub.requests
    assert (request.method, request.path) == ("GET", f"/v1/integrations/{integration[0]}")
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert request.headers[spec.API_KEY_HEADER.title()] == integration[1]
    assert request.headers["Accept"] == "application/json, application/problem+json"


def test_neither_secret_nor_token_is_logged(
    sandbox: SandboxServer,
    integration: Integration,
    stub: StubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    stub.answer(307, headers={"Location": "https://elsewhere.example/"})
    with sandbox.client(api_base=stub.url) as client:
        for call in (client.integration_status, client.revoke):
            with pytest.raises(OneConnectError):
                call(*integration)
        token = client.tokens.get()

    assert "redirected" in caplog.text
    assert integration[1] not in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(
    ("answer", "active", "reason"),
    [
        ({"status": "active"}, True, None),
        ({"status": "ACTIVE"}, True, None),
        ({"integrationId": "x"}, True, None),
        ({"state": "Revoked", "reason": "SMB Closed"}, False, "SMB Closed"),
        ({"status": "revoked", "revocationReason": "CPA Closed"}, False, "CPA Closed"),
        ({"active": False}, False, None),
    ],
)
def test_integration_status_reads_differently_shaped_answers(
    sandbox: SandboxServer, stub: StubServer, answer: dict, active: bool, reason: str | None
) -> None:
    stub.answer(200, json_body=answer)
    with sandbox.client(api_base=stub.url) as client:
        status = client.integration_status("3f2b0c1e-0000-4000-8000-000000000001", "secret")
    assert (status.active, status.revocation_reason) == (active, reason)
