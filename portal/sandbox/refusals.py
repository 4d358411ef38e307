"""The sandbox's refusals, each one RFC 9457 problem details as OneConnect answers them."""

from __future__ import annotations

from typing import Any

from portal.oneconnect import spec

_TYPE_PREFIX = "urn:oneconnect-sandbox:problem:"


class Refusal(Exception):
    """An API call the simulated OneConnect refuses; the API layer turns it into a problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        error_code: str | None = None,
        members: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.error_code = error_code
        self.members = members or {}
        self.headers = headers or {}

    def problem(self) -> dict[str, Any]:
        """The problem document: type, title, status, detail, errorCode and extra members."""
        slug = "-".join(self.title.lower().split())
        document: dict[str, Any] = {
            "type": _TYPE_PREFIX + slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.error_code:
            document["errorCode"] = self.error_code
        document.update(self.members)
        return document


def invalid(detail: str) -> Refusal:
    """400 VALIDATION_ERROR naming the exact problem."""
    return Refusal(400, "Validation error", detail, error_code=spec.VALIDATION_ERROR)


def unauthenticated(detail: str) -> Refusal:
    """401 for a missing, unknown or expired bearer token."""
    return Refusal(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def wrong_api_key() -> Refusal:
    """401 for a missing or wrong integration secret header."""
    return Refusal(
        401,
        "Unauthorized",
        f"The {spec.API_KEY_HEADER} header is missing or is not this integration's secret.",
    )


def revoked(reason: str) -> Refusal:
    """401 for every call on a revoked integration, naming the reason (spec ASSUMED member)."""
    return Refusal(
        401,
        "Integration revoked",
        f"This integration was revoked: {reason}",
        members={spec.REVOCATION_REASON_MEMBER: reason},
    )


def unknown_integration(integration_id: str) -> Refusal:
    """404 for an integration id the sandbox does not know."""
    return Refusal(404, "Not found", f"No integration has the id {integration_id}.")


def business_error(code: str) -> Refusal:
    """400 SMB_CLOSED / SMB_NOTFOUND / CPA_CLOSED: the accounting tool closed the integration."""
    reason = spec.REVOCATION_REASONS[code]
    return Refusal(
        400,
        "Business error",
        f"{reason}: the integration is now revoked.",
        error_code=code,
    )


def duplicate(reference: str, document_id: str, deposit_date: str) -> Refusal:
    """409 DUPLICATE_EXTERNAL_REFERENCE with the existing import's documentId and depositDate."""
    return Refusal(
        409,
        "Duplicate external reference",
        f"externalReference {reference} was already used for document {document_id}.",
        error_code=spec.DUPLICATE_EXTERNAL_REFERENCE,
        members={
            spec.DUPLICATE_DOCUMENT_MEMBER: document_id,
            spec.DUPLICATE_DATE_MEMBER: deposit_date,
        },
    )
