"""The CloudEvents 1.0 the simulated OneConnect sends: DocumentStatus and Revocation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from portal.oneconnect import spec

SOURCE = "urn:oneconnect-sandbox"


def document_status(
    integration_id: str,
    document_id: str,
    external_reference: str | None,
    state: str,
    rejection_reason: str | None,
) -> dict[str, Any]:
    """A DocumentStatus event; the rejection reason is present on refusals only."""
    data: dict[str, Any] = {
        "integrationId": integration_id,
        "documentId": document_id,
        "externalReference": external_reference,
        "documentState": state,
    }
    if state == spec.DOCUMENT_REFUSED:
        data[spec.REJECTION_REASON_MEMBER] = rejection_reason
    return _envelope(spec.EVENT_DOCUMENT_STATUS, data)


def revocation(integration_id: str, reason: str) -> dict[str, Any]:
    """A Revocation event naming the reason (spec ASSUMED member)."""
    data = {"integrationId": integration_id, spec.REVOCATION_EVENT_REASON_MEMBER: reason}
    return _envelope(spec.EVENT_REVOCATION, data)


def encode(event: dict[str, Any]) -> str:
    """The event as the JSON text that is sent (and signed) byte for byte."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "type": event_type,
        "datacontenttype": "application/json",
        "time": iso_utc(datetime.now(UTC)),
        "data": data,
    }


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, e.g. 2026-03-09T10:00:00.000Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
