"""The sandbox enforces OneConnect's documented rules, decides, signs webhooks and has a console."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import jwt
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal.i18n import LOCALE_COOKIE
from portal.oneconnect import spec
from portal.oneconnect.errors import TransientError
from portal.oneconnect.webhooks import JwksCache, parse_cloudevent, verify_delivery
from portal.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SCOPE,
    create_sandbox_app,
)
from portal.sandbox.faults import Target
from portal.sandbox.rules import ImportRequest
from portal.sandbox.state import DEFAULT_REFUSAL_REASON
from tests.support import samples
from tests.support.sandbox import SandboxServer
from tests.support.stub import Recorded, StubServer

Integration = tuple[str, str]
# The console is French by default; the tests that read its words ask for English.
ENGLISH = {"Accept-Language": "en"}
Parts = dict[str, Any]

PARTNER = {
    "grant_type": "client_credentials",
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "scope": DEFAULT_SCOPE,
}
MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def access_token(sandbox: SandboxServer) -> str:
    answer = requests.post(sandbox.token_url, data=PARTNER, timeout=5)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


class Api:
    """Raw HTTP calls to the sandbox, shaped freely (the client only sends well-formed ones)."""

    def __init__(self, sandbox: SandboxServer, integration: Integration) -> None:
        self.sandbox = sandbox
        self.integration_id, self.secret = integration
        self.token = access_token(sandbox)

    def headers(self, **changes: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", spec.API_KEY_HEADER: self.secret}
        headers.update(changes)
        return {name: value for name, value in headers.items() if value is not None}

    def url(self, path: str, integration_id: str | None = None) -> str:
        return self.sandbox.api_base + path.format(
            integration_id=integration_id or self.integration_id
        )

    def send(
        self,
        kind: str = "purchase",
        *,
        files: Parts | None = None,
        data: Parts | None = None,
        headers: dict[str, str] | None = None,
        integration_id: str | None = None,
    ) -> requests.Response:
        files = (
            {"file": ("facture.pdf", samples.PDF, "application/pdf")} if files is None else files
        )
        data = {"filename": "facture.pdf"} if data is None else data
        return requests.post(
            self.url(spec.IMPORT_PATHS[kind], integration_id),
            files={name: part for name, part in files.items() if part is not None},
            data={name: value for name, value in data.items() if value is not None},
            headers=self.headers() if headers is None else headers,
            timeout=10,
            allow_redirects=False,
        )


@pytest.fixture
def api(sandbox: SandboxServer, integration: Integration) -> Api:
    return Api(sandbox, integration)


def problem(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(spec.PROBLEM_CONTENT_TYPE)
    document: dict[str, Any] = answer.json()
    assert {"type", "title", "status", "detail"} <= document.keys()
    assert document["status"] == status
    return document


def entries_text(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def with_line_change(number: int, change: Callable[[dict[str, Any]], None]) -> str:
    document = samples.entries()
    change(document["data"]["lines"][number - 1])
    return entries_text(document)


def pdf_of(size: int) -> bytes:
    return samples.PDF + b"0" * (size - len(samples.PDF))


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_token_endpoint_issues_a_bearer_token(sandbox: SandboxServer) -> None:
    answer = requests.post(sandbox.token_url, data=PARTNER, timeout=5)

    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["access_token"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert sandbox.state.tokens_issued == 1


def test_token_lifetime_is_configurable() -> None:
    with SandboxServer({"SANDBOX_TOKEN_LIFETIME": 60, "SANDBOX_DECISION_DELAY": None}) as sandbox:
        answer = requests.post(sandbox.token_url, data=PARTNER, timeout=5)

    assert answer.json()["expires_in"] == 60


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"scope": "admin"}, 400, "invalid_scope"),
        ({"scope": None}, 400, "invalid_scope"),
    ],
)
def test_token_endpoint_refuses_bad_requests(
    sandbox: SandboxServer, change: dict[str, str | None], status: int, error: str
) -> None:
    form = {name: value for name, value in {**PARTNER, **change}.items() if value is not None}

    answer = requests.post(sandbox.token_url, data=form, timeout=5)

    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert sandbox.state.tokens_issued == 0


def test_token_endpoint_wants_credentials_in_the_form_not_basic_auth(
    sandbox: SandboxServer,
) -> None:
    form = {"grant_type": "client_credentials", "scope": DEFAULT_SCOPE}
    auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)

    answer = requests.post(sandbox.token_url, data=form, auth=auth, timeout=5)

    assert (answer.status_code, answer.json()) == (401, {"error": "invalid_client"})


def test_token_endpoint_wants_a_form_body(sandbox: SandboxServer) -> None:
    answer = requests.post(sandbox.token_url, json=PARTNER, timeout=5)

    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_request"})


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic cG9ydGFsOnNlY3JldA=="],
)
def test_calls_without_a_valid_bearer_token_are_401(api: Api, authorization: str | None) -> None:
    document = problem(api.send(headers=api.headers(Authorization=authorization)), 401)

    assert "revoked" not in document["detail"]
    assert api.sandbox.state.documents() == []


def test_expired_token_is_401(api: Api) -> None:
    api.sandbox.state.expire_tokens()

    assert "expired" in problem(api.send(), 401)["detail"]


@pytest.mark.parametrize("secret", [None, "", "not-the-secret"])
@pytest.mark.parametrize("call", ["import", "status", "revoke"])
def test_missing_or_wrong_api_key_is_401(api: Api, secret: str | None, call: str) -> None:
    headers = api.headers(**{spec.API_KEY_HEADER: secret})
    if call == "import":
        answer = api.send(headers=headers)
    elif call == "status":
        answer = requests.get(api.url(spec.STATUS_PATH), headers=headers, timeout=5)
    else:
        answer = requests.put(api.url(spec.REVOKE_PATH), headers=headers, timeout=5)

    assert spec.API_KEY_HEADER in problem(answer, 401)["detail"]
    assert api.sandbox.state.integrations()[0].active


def test_unknown_integration_is_404(api: Api) -> None:
    unknown = "9b2f4c1e-5d6a-4b7c-8d9e-0f1a2b3c4d5e"

    document = problem(api.send(integration_id=unknown), 404)

    assert unknown in document["detail"]


def test_status_of_an_active_integration(api: Api) -> None:
    answer = requests.get(api.url(spec.STATUS_PATH), headers=api.headers(), timeout=5)

    assert answer.json() == {"integrationId": api.integration_id, "status": spec.STATUS_ACTIVE}


def test_revoked_integration_answers_401_with_its_reason(api: Api) -> None:
    revoked = requests.put(api.url(spec.REVOKE_PATH), headers=api.headers(), timeout=5)
    assert revoked.status_code == 204

    for answer in (
        api.send(),
        requests.get(api.url(spec.STATUS_PATH), headers=api.headers(), timeout=5),
        requests.put(api.url(spec.REVOKE_PATH), headers=api.headers(), timeout=5),
    ):
        document = problem(answer, 401)
        assert document[spec.REVOCATION_REASON_MEMBER] == spec.USER_REVOCATION_REASON
        assert spec.USER_REVOCATION_REASON in document["detail"]


@pytest.mark.parametrize("code", spec.REVOKING_ERROR_CODES)
def test_business_error_answers_once_then_the_integration_is_revoked(api: Api, code: str) -> None:
    state = api.sandbox.state
    state.set_business_error(api.integration_id, code)

    first = problem(api.send(), 400)
    later = problem(api.send(), 401)

    reason = spec.REVOCATION_REASONS[code]
    assert first["errorCode"] == code
    assert later[spec.REVOCATION_REASON_MEMBER] == reason
    [integration] = state.integrations()
    assert (integration.active, integration.revocation_reason) == (False, reason)
    [delivery] = state.deliveries()
    assert delivery.event["type"] == spec.EVENT_REVOCATION
    assert delivery.event["data"] == {"integrationId": api.integration_id, "reason": reason}
    assert state.documents() == []


def test_unknown_business_error_code_is_refused(
    sandbox: SandboxServer, integration: Integration
) -> None:
    with pytest.raises(ValueError, match="SOMETHING"):
        sandbox.state.set_business_error(integration[0], "SOMETHING")


PDF_PART = ("facture.pdf", samples.PDF, "application/pdf")
LONG_REFERENCE = "A" * (spec.EXTERNAL_REFERENCE_MAX + 1)
NOT_ISO = "09/03/2026"


@pytest.mark.parametrize(
    ("files", "data", "detail"),
    [
        ({"file": None}, {}, "file: the part is missing"),
        ({"file": None}, {"file": "%PDF-1.4 as text"}, "file: the part is missing"),
        ({}, {"filename": None}, "filename: the part is missing"),
        ({}, {"filename": ""}, "filename: the part is missing"),
        ({}, {"filename": "facture.docx"}, "filename: 'facture.docx' does not end in one of"),
        ({}, {"filename": "facture.pdf.exe"}, "does not end in one of .pdf, .jpg, .jpeg"),
        ({}, {"filename": "pdf"}, "filename: 'pdf' does not end in one of"),
        ({"file": ("f.pdf", b"", "application/pdf")}, {}, "file: the file is empty"),
        (
            {"file": ("f.pdf", pdf_of(spec.MAX_FILE_BYTES + 1), "application/pdf")},
            {},
            "file: larger than 5000000 bytes",
        ),
        (
            {"file": ("f.pdf", b"just some text", "application/pdf")},
            {},
            "file: the content is not a PDF, JPEG, PNG or BMP file",
        ),
        (
            {"file": ("f.pdf", b"GIF89a" + bytes(20), "application/pdf")},
            {},
            "(it looks like image/gif)",
        ),
        ({}, {"externalReference": "FA 2026"}, "externalReference: use 1 to 64 characters"),
        ({}, {"externalReference": "FA/2026"}, "externalReference"),
        ({}, {"externalReference": "FAé2026"}, "externalReference"),
        ({}, {"externalReference": ""}, "externalReference"),
        ({}, {"externalReference": LONG_REFERENCE}, "externalReference"),
        (
            {},
            {"entries": '{"data":{"lines":[]},"pad":"' + "x" * spec.MAX_ENTRIES_BYTES + '"}'},
            "entries: larger than 5000000 bytes",
        ),
        ({}, {"entries": '{"data":'}, "entries: not valid JSON"),
        ({}, {"entries": '{"data":{"lines":[{"x":NaN}]}}'}, "entries: not valid JSON (NaN"),
        ({}, {"entries": "[]"}, 'entries: the root must be {"data": {"lines": [...]}}'),
        ({}, {"entries": '{"data":{}}'}, "entries: the root must be"),
        ({}, {"entries": '{"lines":[]}'}, "entries: the root must be"),
        ({}, {"entries": '{"data":{"lines":{}}}'}, "entries: the root must be"),
        ({}, {"entries": '{"data":{"lines":[]}}'}, "entries: data.lines is empty"),
        ({}, {"entries": '{"data":{"lines":["x"]}}'}, "entries: line 1: must be an object"),
        (
            {},
            {"entries": with_line_change(2, lambda line: line.pop("journal"))},
            "entries: line 2: journal is missing",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(reference=None))},
            "entries: line 1: reference is missing",
        ),
        (
            {},
            {"entries": with_line_change(2, lambda line: line["debit"].pop("currencyRate"))},
            "entries: line 2: debit is missing currencyRate",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line["credit"].pop("amount"))},
            "entries: line 1: credit is missing amount",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(credit=[0, 0, 0, 0]))},
            "entries: line 1: credit must be an object",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line["debit"].update(amount="120.00"))},
            "entries: line 1: debit.amount must be a number",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line["debit"].update(currencyRate=True))},
            "entries: line 1: debit.currencyRate must be a number",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line["credit"].update(currency=978))},
            "entries: line 1: credit.currency must be a string",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(account=40100000))},
            "entries: line 1: account must be a string",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(label=["a"]))},
            "entries: line 1: label must be a string",
        ),
        (
            {},
            {"entries": with_line_change(2, lambda line: line.update(thirdPartySiren=123456789))},
            "entries: line 2: thirdPartySiren must be a string",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(date=NOT_ISO))},
            "entries: line 1: date is not an ISO 8601 date",
        ),
        (
            {},
            {"entries": with_line_change(1, lambda line: line.update(dueDate=NOT_ISO))},
            "entries: line 1: dueDate is not an ISO 8601 date",
        ),
        (
            {"entries": ("entries.json", entries_text(samples.entries()), "application/json")},
            {},
            "entries: send it as a JSON string part, not as a file",
        ),
        ({}, {"organization": "{name"}, "organization: not valid JSON"),
        ({}, {"organization": '["Boulangerie"]'}, "organization: must be a JSON object"),
        ({}, {"organization": '{"siren": 123456789}'}, "organization: siren must be a string"),
        ({}, {"organization": '{"address": 75006}'}, "organization: address must be an object"),
        (
            {},
            {"organization": '{"address": {"city": 75}}'},
            "organization: address.city must be a string",
        ),
    ],
)
def test_invalid_imports_get_a_validation_error_naming_the_problem(
    api: Api, files: Parts, data: Parts, detail: str
) -> None:
    answer = api.send(files={"file": PDF_PART, **files}, data={"filename": "facture.pdf", **data})

    document = problem(answer, 400)
    assert document["errorCode"] == spec.VALIDATION_ERROR
    assert detail in document["detail"]
    assert api.sandbox.state.documents() == []


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("FACTURE.PDF", samples.PDF),
        ("ticket.Jpg", samples.JPEG),
        ("ticket.jpeg", samples.JPEG),
        ("scan.png", samples.PNG),
        ("scan.BMP", samples.BMP),
        ("largest.pdf", pdf_of(spec.MAX_FILE_BYTES)),
    ],
)
def test_allowed_files_are_imported(api: Api, filename: str, content: bytes) -> None:
    answer = api.send(
        files={"file": (filename, content, "application/octet-stream")}, data={"filename": filename}
    )

    assert answer.status_code == 200, answer.text
    [document] = api.sandbox.state.documents()
    assert document.document_id == answer.json()["documentId"]
    assert (document.filename, document.size) == (filename, len(content))


def test_a_complete_import_is_recorded_as_received(api: Api) -> None:
    reference = "Az09_-:" + "x" * (spec.EXTERNAL_REFERENCE_MAX - 7)
    lines = samples.entries()["data"]["lines"]
    lines[0].update(
        dueDate="2026-04-09", journalLabel="Achats", documentReference="F42", extra="ok"
    )
    organization = {**samples.ORGANIZATION, "address": "1 rue du Four, 75006 Paris"}

    answer = api.send(
        "sales",
        data={
            "filename": "facture.pdf",
            "userEmail": "marie@boulangerie-martin.fr",
            "comment": "Merci !",
            "externalReference": reference,
            "entries": entries_text({"data": {"lines": lines}}),
            "organization": json.dumps(organization),
        },
    )

    assert answer.status_code == 200, answer.text
    [document] = api.sandbox.state.documents()
    assert document.document_id == answer.json()["documentId"]
    assert (document.kind, document.external_reference) == ("sales", reference)
    assert (document.state.value, document.line_count) == ("Received", 2)
    assert document.organization == organization
    assert document.detected_media_type == "application/pdf"


def test_duplicate_reference_answers_409_with_the_existing_document(api: Api) -> None:
    first = api.send(data={"filename": "facture.pdf", "externalReference": "INV-1"})
    duplicate = api.send("sales", data={"filename": "avoir.pdf", "externalReference": "INV-1"})

    document = problem(duplicate, 409)
    assert document["errorCode"] == spec.DUPLICATE_EXTERNAL_REFERENCE
    assert document[spec.DUPLICATE_DOCUMENT_MEMBER] == first.json()["documentId"]
    assert MS_UTC.fullmatch(document[spec.DUPLICATE_DATE_MEMBER])
    assert len(api.sandbox.state.documents()) == 1


def test_references_are_unique_per_integration_only(api: Api, sandbox: SandboxServer) -> None:
    other = Api(sandbox, sandbox.state.create_integration("Autre SARL"))

    for caller in (api, other):
        answer = caller.send(data={"filename": "facture.pdf", "externalReference": "INV-1"})
        assert answer.status_code == 200, answer.text


def test_scripted_failures_answer_503_then_recover(api: Api) -> None:
    api.sandbox.state.faults.fail_next(2, retry_after=5)

    answers = [api.send() for _ in range(3)]

    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "5"
    assert len(api.sandbox.state.documents()) == 1


@pytest.fixture
def receiver(sandbox: SandboxServer, stub: StubServer) -> StubServer:
    sandbox.state.webhook_url = stub.url + "/webhooks/one-connect"
    return stub


@pytest.fixture
def jwks(sandbox: SandboxServer) -> Iterator[JwksCache]:
    cache = JwksCache(sandbox.jwks_url, timeout=2)
    try:
        yield cache
    finally:
        cache.close()


def verified_event(delivery: Recorded, jwks: JwksCache) -> dict[str, Any]:
    assert delivery.method == "POST"
    assert delivery.path == "/webhooks/one-connect"
    assert delivery.headers["Content-Type"] == spec.CLOUDEVENTS_CONTENT_TYPE
    verify_delivery(delivery.body, delivery.headers.get("Authorization"), jwks)
    event = parse_cloudevent(delivery.body)
    assert event.raw["datacontenttype"] == "application/json"
    assert MS_UTC.fullmatch(event.raw["time"])
    return event.raw


@pytest.mark.parametrize(
    ("comment", "state", "reason"),
    [
        ("Loyer de mars", spec.DOCUMENT_ACCEPTED, None),
        (None, spec.DOCUMENT_ACCEPTED, None),
        ("Please REFUSE: scan illisible ", spec.DOCUMENT_REFUSED, "scan illisible"),
        ("refuse this one", spec.DOCUMENT_REFUSED, DEFAULT_REFUSAL_REASON),
        ("refuse:", spec.DOCUMENT_REFUSED, DEFAULT_REFUSAL_REASON),
    ],
)
def test_automatic_decision_sends_a_signed_document_status(
    api: Api,
    receiver: StubServer,
    jwks: JwksCache,
    comment: str | None,
    state: str,
    reason: str | None,
) -> None:
    api.sandbox.state.decision_delay = 0.05

    answer = api.send(
        data={"filename": "facture.pdf", "externalReference": "FA-42", "comment": comment}
    )

    [delivery] = receiver.wait_for(1)
    event = verified_event(delivery, jwks)
    assert event["type"] == spec.EVENT_DOCUMENT_STATUS
    data = event["data"]
    assert data["integrationId"] == api.integration_id
    assert data["documentId"] == answer.json()["documentId"]
    assert data["externalReference"] == "FA-42"
    assert data["documentState"] == state
    assert data.get(spec.REJECTION_REASON_MEMBER) == reason
    [document] = api.sandbox.state.documents()
    assert (document.state.value, document.rejection_reason) == (state, reason)


def test_manual_decision_and_delivery_outcome_are_recorded(
    api: Api, receiver: StubServer, jwks: JwksCache
) -> None:
    document_id = api.send().json()["documentId"]

    api.sandbox.state.decide(document_id, accepted=False, reason="Montant illisible")

    event = verified_event(receiver.wait_for(1)[0], jwks)
    assert event["data"][spec.REJECTION_REASON_MEMBER] == "Montant illisible"
    assert event["data"]["externalReference"] is None
    eventually(lambda: api.sandbox.state.deliveries()[0].attempts == 1)
    [delivery] = api.sandbox.state.deliveries()
    assert (delivery.event_id, delivery.delivered, delivery.last_outcome) == (
        event["id"],
        True,
        "HTTP 204",
    )


def test_failed_delivery_is_retried_with_the_same_event(
    api: Api, receiver: StubServer, jwks: JwksCache
) -> None:
    receiver.answer(500)
    receiver.answer(204, then=True)
    document_id = api.send().json()["documentId"]

    api.sandbox.state.decide(document_id, accepted=True)

    first, second = receiver.wait_for(2)
    assert first.body == second.body
    verified_event(second, jwks)
    eventually(lambda: api.sandbox.state.deliveries()[0].delivered)
    assert api.sandbox.state.deliveries()[0].attempts == 2


def test_retries_stop_after_the_last_delay(api: Api, receiver: StubServer) -> None:
    receiver.answer(503)
    retries = len(api.sandbox.state.settings.webhook_retry_delays)
    document_id = api.send().json()["documentId"]

    api.sandbox.state.decide(document_id, accepted=True)

    receiver.wait_for(1 + retries)
    eventually(lambda: api.sandbox.state.deliveries()[0].attempts == 1 + retries)
    time.sleep(0.3)  # longer than the last retry delay
    assert len(receiver.requests) == 1 + retries
    [delivery] = api.sandbox.state.deliveries()
    assert (delivery.delivered, delivery.last_outcome) == (False, "HTTP 503")


def test_unreachable_receiver_is_recorded(sandbox: SandboxServer, api: Api) -> None:
    with StubServer() as gone:
        sandbox.state.webhook_url = gone.url
    document_id = api.send().json()["documentId"]

    sandbox.state.decide(document_id, accepted=True)

    eventually(lambda: sandbox.state.deliveries()[0].attempts == 4)
    assert sandbox.state.deliveries()[0].last_outcome == "failed: ConnectionError"


def test_without_webhook_url_events_are_recorded_not_sent(api: Api) -> None:
    document_id = api.send().json()["documentId"]

    api.sandbox.state.decide(document_id, accepted=True)

    eventually(lambda: api.sandbox.state.deliveries()[0].last_outcome is not None)
    [delivery] = api.sandbox.state.deliveries()
    assert delivery.last_outcome == "not sent: no webhook URL is configured"
    assert delivery.event["data"]["documentState"] == spec.DOCUMENT_ACCEPTED


def test_rotated_key_signs_later_deliveries_and_both_keys_are_listed(
    api: Api, receiver: StubServer, jwks: JwksCache
) -> None:
    state = api.sandbox.state
    first_id = api.send().json()["documentId"]
    state.decide(first_id, accepted=True)
    old_kid = _kid(receiver.wait_for(1)[0])
    verified_event(receiver.requests[0], jwks)

    new_kid = state.rotate_signing_key()
    state.revoke_integration(api.integration_id, "CPA Closed")

    delivery = receiver.wait_for(2)[1]
    assert _kid(delivery) == new_kid != old_kid
    assert verified_event(delivery, jwks)["data"]["reason"] == "CPA Closed"
    listed = requests.get(api.sandbox.jwks_url, timeout=5).json()["keys"]
    assert {key["kid"] for key in listed} == {old_kid, new_kid}
    assert all(key["alg"] == "RS256" and "d" not in key for key in listed)


def _kid(delivery: Recorded) -> str:
    token = delivery.headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.get_unverified_header(token)["kid"])


@pytest.fixture
def console() -> Iterator[tuple[Flask, FlaskClient]]:
    """The sandbox app mounted under /sandbox, as the portal mounts it, and a test client."""
    app = create_sandbox_app({"SANDBOX_DECISION_DELAY": None})
    host = Flask("host")
    host.wsgi_app = DispatcherMiddleware(host.wsgi_app, {"/sandbox": app})  # type: ignore[method-assign]
    try:
        yield app, host.test_client()
    finally:
        app.extensions["sandbox"].close()


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.controls: list[str] = []
        self.landmarks: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag in ("header", "main", "footer", "nav"):
            self.landmarks.add(tag)
        if tag in ("select", "textarea") or (
            tag == "input" and attributes.get("type") not in ("hidden", "submit")
        ):
            self.controls.append(str(attributes.get("id")))


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_console_page_shows_settings_and_labels_every_control(
    console: tuple[Flask, FlaskClient],
) -> None:
    app, client = console
    integration_id, _ = app.extensions["sandbox"].create_integration("Boulangerie Martin")

    page = client.get("/sandbox/", headers=ENGLISH).get_data(as_text=True)

    assert "<h1>OneConnect sandbox console</h1>" in page
    assert "/sandbox/static/vendor/pico.min.css" in page
    for shown in (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        "http://localhost/sandbox/oauth2/token",
        "http://localhost/sandbox/v1",
        "http://localhost/sandbox/.well-known/jwks.json",
        integration_id,
    ):
        assert shown in page
    parser = _Labels()
    parser.feed(page)
    assert {"header", "main", "footer", "nav"} <= parser.landmarks
    assert parser.controls
    assert all(control in parser.labelled for control in parser.controls)


def test_console_forms_refuse_a_post_without_csrf_token(
    console: tuple[Flask, FlaskClient],
) -> None:
    app, client = console

    answer = client.post("/sandbox/integrations", data={"name": "Sans jeton"})

    assert answer.status_code == 400
    assert app.extensions["sandbox"].integrations() == []


def test_console_creates_an_integration_and_shows_its_secret_once(
    console: tuple[Flask, FlaskClient],
) -> None:
    app, client = console
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    page = client.post(
        "/sandbox/integrations", data={"name": "Boulangerie Martin", "csrf_token": token}
    ).get_data(as_text=True)

    [integration] = app.extensions["sandbox"].integrations()
    secret = re.search(r'id="created-integration-secret">([^<]+)<', page)
    assert secret and integration.id in page
    assert app.extensions["sandbox"].authorize(integration.id, secret.group(1))
    assert secret.group(1) not in client.get("/sandbox/").get_data(as_text=True)


def test_console_refuses_an_empty_name(console: tuple[Flask, FlaskClient]) -> None:
    app, client = console
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    answer = client.post("/sandbox/integrations", data={"name": " ", "csrf_token": token})

    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    assert app.extensions["sandbox"].integrations() == []


def test_console_actions_change_the_sandbox(console: tuple[Flask, FlaskClient]) -> None:
    app, client = console
    state = app.extensions["sandbox"]
    first, first_secret = state.create_integration("Première")
    second, _ = state.create_integration("Seconde")
    client.set_cookie(LOCALE_COOKIE, "en")  # the console's words are read below, in English
    document_ids = [
        state.import_document(first, first_secret, "purchase", _upload(reference))
        for reference in ("A-1", "A-2")
    ]
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    posts = [
        (f"/sandbox/integrations/{first}/business-error", {"code": spec.CPA_CLOSED}),
        (f"/sandbox/integrations/{second}/revoke", {}),
        (f"/sandbox/documents/{document_ids[0]}/decision", {"accept": "Accept"}),
        (
            f"/sandbox/documents/{document_ids[1]}/decision",
            {"refuse": "Refuse", "reason": "Doublon"},
        ),
        ("/sandbox/signing-keys/rotate", {}),
    ]
    for path, form in posts:
        answer = client.post(path, data={**form, "csrf_token": token})
        assert (answer.status_code, answer.headers["Location"]) == (302, "/sandbox/")

    integrations = {i.id: i for i in state.integrations()}
    assert integrations[first].pending_error_code == spec.CPA_CLOSED
    assert not integrations[second].active
    decisions = {d.document_id: (d.state.value, d.rejection_reason) for d in state.documents()}
    assert decisions == {
        document_ids[0]: (spec.DOCUMENT_ACCEPTED, None),
        document_ids[1]: (spec.DOCUMENT_REFUSED, "Doublon"),
    }
    assert len(state.signing_keys()) == 2
    assert {d.event_type for d in state.deliveries()} == {
        spec.EVENT_REVOCATION,
        spec.EVENT_DOCUMENT_STATUS,
    }
    page = client.get("/sandbox/").get_data(as_text=True)
    assert "Doublon" in page and "Document refused" in page


def test_console_action_on_an_unknown_document_is_404(console: tuple[Flask, FlaskClient]) -> None:
    _, client = console
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    answer = client.post(
        "/sandbox/documents/unknown/decision", data={"accept": "Accept", "csrf_token": token}
    )

    assert answer.status_code == 404


def _upload(reference: str) -> ImportRequest:
    return ImportRequest(
        filename="facture.pdf",
        part_filename="facture.pdf",
        media_type="application/pdf",
        detected_media_type="application/pdf",
        size=len(samples.PDF),
        sha256=hashlib.sha256(samples.PDF).hexdigest(),
        user_email=None,
        comment=None,
        external_reference=reference,
        entries_json=None,
        organization_json=None,
    )


def test_received_at_is_aware_utc(api: Api) -> None:
    api.send()

    [document] = api.sandbox.state.documents()
    assert isinstance(document.received_at, datetime)
    assert document.received_at.utcoffset() is not None


def test_events_can_be_delivered_again_to_the_configured_url(stub: StubServer) -> None:
    config = {"SANDBOX_DECISION_DELAY": None, "SANDBOX_WEBHOOK_URL": stub.url + "/hook"}
    with SandboxServer(config) as sandbox:
        integration_id, _ = sandbox.state.create_integration("Boulangerie Martin")
        sandbox.state.revoke_integration(integration_id, "SMB Closed")
        [first] = stub.wait_for(1)

        sandbox.state.redeliver(sandbox.state.deliveries()[0].event_id)

        second = stub.wait_for(2)[1]
    assert (first.path, second.path) == ("/hook", "/hook")
    assert first.body == second.body


def test_reset_forgets_everything(api: Api) -> None:
    state = api.sandbox.state
    document_id = api.send().json()["documentId"]
    state.decide(document_id, accepted=True)
    state.faults.fail_next(3)

    state.reset()

    assert (state.integrations(), state.documents(), state.tokens_issued) == ([], [], 0)
    assert state.deliveries() == []
    assert state.faults.take(Target.API) is None
    assert len(requests.get(api.sandbox.jwks_url, timeout=5).json()["keys"]) == 1


def test_the_console_schedules_and_clears_faults(sandbox: SandboxServer) -> None:
    console = sandbox.app.test_client()
    page = console.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = console.post(
        "/faults", data={"csrf_token": token, "kind": "hang", "count": "2", "seconds": "1.5"}
    )
    assert response.status_code == 302
    assert sandbox.state.faults.pending() == [("api", 2, "hang 1.5 s")]
    page = console.get("/", headers=ENGLISH).get_data(as_text=True)
    assert "hang 1.5 s" in page
    console.post("/faults/clear", data={"csrf_token": token})
    assert sandbox.state.faults.pending() == []


@pytest.mark.parametrize("kind", ["reset", "lose"])
def test_a_dropped_connection_reaches_the_client_as_a_transient_error(
    sandbox: SandboxServer, kind: str
) -> None:
    integration_id, secret = sandbox.state.create_integration("Faulty")
    sandbox.state.faults.schedule(kind)
    with sandbox.client() as client, pytest.raises(TransientError):
        client.import_invoice(
            integration_id,
            secret,
            "purchase",
            file=samples.PDF,
            filename="a.pdf",
            media_type="application/pdf",
            external_reference="R-1",
        )
    assert len(sandbox.state.documents()) == (1 if kind == "lose" else 0)
