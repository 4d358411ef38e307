"""Typed exceptions for OneConnect's answers, built from RFC 9457 problem details."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from portal.oneconnect import spec

Problem = dict[str, Any]

_REVOKED_WORD = re.compile(r"\brevoked\b", re.IGNORECASE)


class OneConnectError(Exception):
    """Anything that kept a OneConnect call from succeeding.

    `str()` is an English sentence for logs and the command line; `code` and `params` say the
    same as data, so that the portal words it in its reader's language when it is read.
    """

    code = "unexpected"

    def __init__(
        self,
        message: str,
        status: int | None = None,
        problem: Problem | None = None,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem = problem
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = dict(params or {})
        if status is not None:
            self.params.setdefault("status", status)


class ValidationFailed(OneConnectError):
    """400 VALIDATION_ERROR: the file or its data was refused; sending it again will not help."""

    def __init__(self, detail: str, status: int | None = 400, problem: Problem | None = None):
        super().__init__(
            f"OneConnect refused the file: {detail}",
            status,
            problem,
            code="validation",
            params={"detail": detail},
        )
        self.detail = detail


class IntegrationRevoked(OneConnectError):
    """The integration is revoked upstream (business error or a 401 naming a revocation)."""

    def __init__(
        self,
        reason: str,
        error_code: str | None = None,
        status: int | None = None,
        problem: Problem | None = None,
    ):
        super().__init__(
            f"The connection to the accounting firm was closed by OneConnect ({reason}). "
            "Ask the accounting firm for a new invitation.",
            status,
            problem,
            code="revoked",
            params={"reason": reason},
        )
        self.reason = reason
        self.error_code = error_code


class DuplicateReference(OneConnectError):
    """409: the external reference was already used by an earlier import of this integration."""

    def __init__(
        self,
        document_id: str | None,
        deposit_date: datetime | None,
        status: int | None = 409,
        problem: Problem | None = None,
    ):
        when = f" on {deposit_date:%Y-%m-%d %H:%M} UTC" if deposit_date else ""
        document = f" (document {document_id})" if document_id else ""
        super().__init__(
            f"This external reference was already used for an invoice deposited{when}{document}.",
            status,
            problem,
            code="duplicate",
            params={
                "document": document_id,
                "deposited_at": deposit_date.isoformat() if deposit_date else None,
            },
        )
        self.document_id = document_id
        self.deposit_date = deposit_date


class AuthenticationFailed(OneConnectError):
    """OneConnect refused our credentials: the integration secret or the partner credentials."""

    code = "credentials_refused"


class PartnerCredentialsRefused(AuthenticationFailed):
    """The token endpoint refused the portal's own partner credentials: an operator's problem,
    not the organization's."""

    code = "partner_credentials_refused"


class IntegrationNotFound(OneConnectError):
    """404: OneConnect does not know this integration id."""

    code = "integration_unknown"


class TransientError(OneConnectError):
    """OneConnect could not be reached or is busy; the same call may succeed later."""

    code = "unreachable"

    def __init__(
        self,
        message: str,
        status: int | None = None,
        problem: Problem | None = None,
        retry_after: float | None = None,
        *,
        code: str | None = None,
    ):
        super().__init__(message, status, problem, code=code)
        self.retry_after = retry_after


class UnexpectedResponse(OneConnectError):
    """An answer the portal does not know how to read (redirect, unknown status, not JSON)."""


def error_from_response(response: requests.Response) -> OneConnectError:
    """Return the exception describing a non-2xx answer of the OneConnect API (never raises)."""
    status = response.status_code
    if 300 <= status < 400:
        return UnexpectedResponse(
            f"OneConnect answered with a redirection (HTTP {status}); it was not followed.",
            status,
            code="redirect",
        )
    problem = problem_of(response)
    if status in (408, 429) or status >= 500:
        return TransientError(
            f"OneConnect is unavailable for now (HTTP {status}).",
            status,
            problem,
            retry_after=retry_after_seconds(response),
            code="unavailable",
        )
    if status == 401:
        return _unauthorized(response, problem)
    if status == 404:
        return IntegrationNotFound(
            "OneConnect does not know this integration. Check the integration ID.", status, problem
        )
    if problem is None:
        return UnexpectedResponse(
            f"OneConnect gave an answer the portal cannot read (HTTP {status}).",
            status,
            code="unreadable_answer",
        )
    if status == 400:
        return _bad_request(problem)
    if status == 409 and (
        problem.get("errorCode") == spec.DUPLICATE_EXTERNAL_REFERENCE
        or spec.DUPLICATE_DOCUMENT_MEMBER in problem
    ):
        return DuplicateReference(
            _string_member(problem, spec.DUPLICATE_DOCUMENT_MEMBER),
            parse_timestamp(problem.get(spec.DUPLICATE_DATE_MEMBER)),
            status,
            problem,
        )
    return UnexpectedResponse(
        f"OneConnect refused the request (HTTP {status}): {_problem_text(problem)}",
        status,
        problem,
        code="request_refused",
        params={"detail": _problem_text(problem)},
    )


def problem_of(response: requests.Response) -> Problem | None:
    """The JSON object of a problem (or plain JSON) answer, or None when there is none."""
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not (media_type.endswith("/json") or media_type.endswith("+json")):
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def revocation_reason(response: requests.Response, problem: Problem | None) -> str | None:
    """The revocation reason a 401 carries, or None when it is a plain authentication refusal."""
    if problem is not None:
        reason = _string_member(problem, spec.REVOCATION_REASON_MEMBER)
        if reason:
            return reason
    # Fallback (spec ASSUMED): an upstream answer shaped differently still names the reason
    # or says "revoked" somewhere in its body.
    text = response.content.decode("utf-8", errors="replace")
    lowered = text.lower()
    for known in spec.REVOCATION_REASONS.values():
        if known.lower() in lowered:
            return known
    if _REVOKED_WORD.search(text):
        if problem is not None and (detail := _string_member(problem, "detail")):
            return detail
        return "revoked"
    return None


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait according to a Retry-After header (delay or HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_timestamp(value: object) -> datetime | None:
    """An aware datetime from an ISO 8601 string (naive read as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _unauthorized(response: requests.Response, problem: Problem | None) -> OneConnectError:
    reason = revocation_reason(response, problem)
    if reason is None:
        return AuthenticationFailed(
            "OneConnect refused the credentials. Check the integration secret, "
            "or the portal's partner credentials.",
            401,
            problem,
        )
    return IntegrationRevoked(reason, _code_for_reason(reason), 401, problem)


def _bad_request(problem: Problem) -> OneConnectError:
    code = problem.get("errorCode")
    if code in spec.REVOKING_ERROR_CODES:
        return IntegrationRevoked(spec.REVOCATION_REASONS[code], code, 400, problem)
    # A 400 with any other (or no) errorCode is still about the data sent: not worth retrying.
    return ValidationFailed(_problem_text(problem), 400, problem)


def _code_for_reason(reason: str) -> str | None:
    for code, known in spec.REVOCATION_REASONS.items():
        if known.lower() == reason.strip().lower():
            return code
    return None


def _problem_text(problem: Problem) -> str:
    return (
        _string_member(problem, "detail") or _string_member(problem, "title") or "no detail given"
    )


def _string_member(problem: Problem, name: str) -> str | None:
    value = problem.get(name)
    return (value.strip() or None) if isinstance(value, str) else None
