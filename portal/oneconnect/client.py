"""OneConnect API client: partner access token, invoice imports, integration status, revocation."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO, Self
from urllib.parse import quote

import requests

from portal.oneconnect import spec
from portal.oneconnect.errors import (
    AuthenticationFailed,
    IntegrationRevoked,
    OneConnectError,
    PartnerCredentialsRefused,
    TransientError,
    UnexpectedResponse,
    error_from_response,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

ACCEPT = "application/json, application/problem+json"
Clock = Callable[[], float]
Timeout = tuple[float, float]
MultipartPart = tuple[str, tuple[str | None, Any] | tuple[str | None, Any, str]]

# RFC 6750 b64token; anything else could smuggle header syntax into our requests.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Printable ASCII without spaces: requests would otherwise refuse the header and quote the
# secret in its error message.
_SECRET_SHAPE = re.compile(r"[\x21-\x7e]+")
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class ImportResult:
    """What OneConnect answered to an accepted import."""

    document_id: str


@dataclass(frozen=True)
class IntegrationStatus:
    """Whether an integration may still be used, and why not when revoked."""

    active: bool
    revocation_reason: str | None = None


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float


class TokenProvider:
    """The partner's client-credentials access token, cached in memory and renewed early."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        *,
        session: requests.Session,
        timeout: Timeout = (3.05, 30.0),
        clock: Clock = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        }
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def get(self, deadline: float | None = None) -> str:
        """Return a usable access token, fetching one when none is cached or it is due for renewal.

        Sends at most one token request per process at a time (POST, form-encoded, credentials in
        the body). With a `deadline` (on this provider's clock), neither waiting for another
        thread's fetch nor the fetch itself goes past it. Raises AuthenticationFailed
        (credentials refused), TransientError (endpoint unreachable or failing, or out of time)
        or UnexpectedResponse.
        """
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        wait = -1.0 if deadline is None else _remaining(deadline, self._clock)
        if not self._lock.acquire(timeout=wait):
            raise _out_of_time()
        try:
            # Threads that waited for the lock find the token the first one fetched.
            token = self._token
            if token is None or self._clock() >= token.renew_at:
                token = self._fetch(deadline)
                self._token = token
            return token.value
        finally:
            self._lock.release()

    def invalidate(self, token: str) -> None:
        """Forget `token` if it is still the cached one (a newer token is kept)."""
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    def _fetch(self, deadline: float | None) -> _Token:
        started = self._clock()
        try:
            response = self._session.post(
                self._token_url,
                data=self._form,
                headers={"Accept": "application/json"},
                timeout=_bounded(self._timeout, deadline, self._clock),
                allow_redirects=False,
            )
        except _NETWORK_ERRORS as exc:
            raise TransientError(
                "OneConnect's sign-in service could not be reached.", code="token_unreachable"
            ) from exc
        except requests.RequestException as exc:
            raise UnexpectedResponse(
                "The portal could not ask OneConnect for access.", code="token_request_failed"
            ) from exc
        if not 200 <= response.status_code < 300:
            raise _token_error(response)
        return _read_token(response, started)


class OneConnectClient:
    """Calls of the OneConnect API on behalf of one partner; safe to share between threads."""

    def __init__(
        self,
        token_url: str,
        api_base: str,
        client_id: str,
        client_secret: str,
        scope: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._timeout: Timeout = (connect_timeout, read_timeout)
        self._clock = clock
        self._api_base = api_base.rstrip("/")
        self.tokens = TokenProvider(
            token_url,
            client_id,
            client_secret,
            scope,
            session=self._session,
            timeout=self._timeout,
            clock=clock,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    def import_invoice(
        self,
        integration_id: str,
        integration_secret: str,
        kind: str,
        *,
        file: BinaryIO | bytes,
        filename: str,
        media_type: str,
        user_email: str | None = None,
        comment: str | None = None,
        external_reference: str | None = None,
        entries: Mapping[str, Any] | None = None,
        organization: Mapping[str, Any] | None = None,
        budget: float | None = None,
    ) -> ImportResult:
        """Import a purchase or sales invoice (multipart POST) and return its documentId.

        `entries` and `organization` travel as compact JSON string parts; absent optional parts
        are left out. A file object is read from its current position, again on the retry.
        Raises ValueError for an unknown `kind`, ValidationFailed, DuplicateReference,
        IntegrationRevoked, IntegrationNotFound, AuthenticationFailed, TransientError (after a
        timeout the import may have happened: resend with the same externalReference) or
        UnexpectedResponse. With a `budget`, the whole call (token fetch, retry and import
        included) ends within that many seconds, as a TransientError if it must (a first attempt
        made while the user waits, or one a sender's lease must outlast).
        """
        deadline = None if budget is None else self._clock() + budget
        if kind not in spec.IMPORT_PATHS:
            raise ValueError(f"unknown invoice kind {kind!r}")
        parts = _import_parts(
            file,
            filename,
            media_type,
            {
                "userEmail": user_email,
                "comment": comment,
                "externalReference": external_reference,
                "entries": _compact_json(entries),
                "organization": _compact_json(organization),
            },
        )
        response = self._send(
            "POST",
            spec.IMPORT_PATHS[kind],
            integration_id,
            integration_secret,
            parts,
            _rewinder(file),
            deadline=deadline,
        )
        document_id = _json_body(response).get("documentId")
        if not isinstance(document_id, str) or not document_id:
            raise UnexpectedResponse(
                "OneConnect accepted the invoice but gave no documentId.", code="no_document_id"
            )
        return ImportResult(document_id)

    def integration_status(self, integration_id: str, integration_secret: str) -> IntegrationStatus:
        """Ask whether the integration is active (GET); a revocation is an answer, not an error.

        Raises IntegrationNotFound, AuthenticationFailed, TransientError or UnexpectedResponse.
        """
        try:
            response = self._send("GET", spec.STATUS_PATH, integration_id, integration_secret)
        except IntegrationRevoked as revoked:
            if revoked.status == 401:
                return IntegrationStatus(active=False, revocation_reason=revoked.reason)
            raise
        return _status_from_body(response)

    def revoke(self, integration_id: str, integration_secret: str) -> None:
        """Revoke the integration upstream (PUT …/revoke), as when a user disconnects it.

        Raises IntegrationRevoked when it already was, IntegrationNotFound, AuthenticationFailed,
        TransientError or UnexpectedResponse.
        """
        self._send("PUT", spec.REVOKE_PATH, integration_id, integration_secret)

    def _send(
        self,
        method: str,
        path: str,
        integration_id: str,
        integration_secret: str,
        files: list[MultipartPart] | None = None,
        rewind: Callable[[], object] | None = None,
        *,
        deadline: float | None = None,
    ) -> requests.Response:
        url = self._api_base + path.format(integration_id=_path_segment(integration_id))
        if not _SECRET_SHAPE.fullmatch(integration_secret):
            raise AuthenticationFailed(
                "The integration secret contains spaces or characters OneConnect never issues. "
                "Copy it again from OneConnect.",
                code="secret_malformed",
            )
        for attempt in (1, 2):
            token = self.tokens.get(deadline)
            if rewind is not None:
                rewind()
            timeout = _bounded(self._timeout, deadline, self._clock)
            response = self._request(method, url, token, integration_secret, files, timeout)
            if 200 <= response.status_code < 300:
                return response
            error = error_from_response(response)
            if isinstance(error, AuthenticationFailed) and attempt == 1:
                # The token may have been forgotten or expired upstream before its time:
                # renew it and try once more. A second refusal is about the credentials.
                self.tokens.invalidate(token)
                continue
            _log_refusal(method, path, error)
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(
        self,
        method: str,
        url: str,
        token: str,
        integration_secret: str,
        files: list[MultipartPart] | None,
        timeout: Timeout,
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            spec.API_KEY_HEADER: integration_secret,
            "Accept": ACCEPT,
        }
        try:
            return self._session.request(
                method,
                url,
                headers=headers,
                files=files,
                timeout=timeout,
                # Pitfall 1: a followed redirect re-sends the secret header to another host.
                allow_redirects=False,
            )
        except _NETWORK_ERRORS as exc:
            raise TransientError("OneConnect could not be reached.") from exc
        except requests.RequestException as exc:
            raise UnexpectedResponse(
                "The portal could not send its request to OneConnect.", code="request_failed"
            ) from exc


def _remaining(deadline: float, clock: Clock) -> float:
    left = deadline - clock()
    if left <= 0:
        raise _out_of_time()
    return left


def _bounded(timeout: Timeout, deadline: float | None, clock: Clock) -> Timeout:
    """The timeouts of one request, shortened so that it cannot outlast the deadline."""
    if deadline is None:
        return timeout
    left = _remaining(deadline, clock)
    return (min(timeout[0], left), min(timeout[1], left))


def _out_of_time() -> TransientError:
    return TransientError(
        "OneConnect did not answer within the time allowed for this attempt.",
        code="out_of_time",
    )


def _token_error(response: requests.Response) -> OneConnectError:
    status = response.status_code
    if status in (400, 401):
        return PartnerCredentialsRefused(
            "OneConnect refused the portal's partner credentials (client id, secret or scope).",
            status,
        )
    if status in (408, 429) or status >= 500:
        return TransientError(
            f"OneConnect's sign-in service is unavailable for now (HTTP {status}).",
            status,
            retry_after=retry_after_seconds(response),
            code="token_unavailable",
        )
    if 300 <= status < 400:
        logger.warning("OneConnect token endpoint answered HTTP %s; redirect not followed", status)
    return UnexpectedResponse(
        f"OneConnect's sign-in service gave an unexpected answer (HTTP {status}).",
        status,
        code="token_unexpected",
    )


def _read_token(response: requests.Response, started: float) -> _Token:
    body = _json_body(response)
    value = body.get("access_token")
    expires_in = body.get("expires_in")
    token_type = body.get("token_type", "Bearer")
    if (
        not isinstance(value, str)
        or not _TOKEN_SHAPE.fullmatch(value)
        or isinstance(expires_in, bool)
        or not isinstance(expires_in, int | float)
        or expires_in <= 0
        or not isinstance(token_type, str)
        or token_type.lower() != "bearer"
    ):
        raise UnexpectedResponse(
            "OneConnect's sign-in service gave a token the portal cannot use.",
            code="token_unusable",
        )
    # Counted from before the request was sent, so network time only makes us renew earlier.
    return _Token(value, started + expires_in * spec.TOKEN_RENEWAL_FRACTION)


def _status_from_body(response: requests.Response) -> IntegrationStatus:
    """Read a 200 status answer generously (spec ASSUMED its shape): the call succeeded with
    this integration's secret, so it is active unless the body says it is revoked."""
    try:
        body = json.loads(response.content) if response.content else {}
    except (ValueError, RecursionError):
        body = {}
    if not isinstance(body, dict):
        return IntegrationStatus(active=True)
    state = body.get("status", body.get("state"))
    revoked = (isinstance(state, str) and state.lower() == spec.STATUS_REVOKED) or (
        body.get("active") is False or body.get("revoked") is True
    )
    if not revoked:
        return IntegrationStatus(active=True)
    reason = body.get(spec.REVOCATION_REASON_MEMBER, body.get("reason"))
    return IntegrationStatus(
        active=False, revocation_reason=reason if isinstance(reason, str) else None
    )


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise UnexpectedResponse(
            f"OneConnect gave an answer the portal cannot read (HTTP {response.status_code}).",
            response.status_code,
            code="unreadable_answer",
        )
    return body


def _import_parts(
    file: BinaryIO | bytes,
    filename: str,
    media_type: str,
    optional: Mapping[str, str | None],
) -> list[MultipartPart]:
    parts: list[MultipartPart] = [
        ("file", (filename, file, media_type)),
        ("filename", (None, filename)),
    ]
    parts.extend((name, (None, value)) for name, value in optional.items() if value is not None)
    return parts


def _rewinder(file: BinaryIO | bytes) -> Callable[[], object] | None:
    # requests reads a file object to its end; a retry must read it again from the same place.
    if isinstance(file, bytes):
        return None
    start = file.tell()
    return lambda: file.seek(start)


def _compact_json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _path_segment(integration_id: str) -> str:
    if integration_id in ("", ".", ".."):
        raise ValueError("an integration id must be a non-empty path segment")
    return quote(integration_id, safe="")


def _log_refusal(method: str, path: str, error: OneConnectError) -> None:
    if isinstance(error, UnexpectedResponse) and error.status and 300 <= error.status < 400:
        logger.warning(
            "OneConnect redirected %s %s (HTTP %s): not followed", method, path, error.status
        )
    else:
        logger.info("OneConnect refused %s %s: %s", method, path, type(error).__name__)
