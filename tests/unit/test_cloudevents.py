"""Reading OneConnect's CloudEvents 1.0 webhook bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from portal.oneconnect.webhooks import CloudEvent, NotACloudEvent, parse_cloudevent


def event(**changes: Any) -> dict[str, Any]:
    document = {
        "specversion": "1.0",
        "id": "7d9f0c52-9a43-4a8e-b8a5-0f6de2d1c3aa",
        "source": "https://api.oneconnect.shine.co",
        "type": "DocumentStatus",
        "datacontenttype": "application/json",
        "time": "2026-03-09T10:15:30.123Z",
        "data": {
            "integrationId": "0e4b8f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
            "documentId": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
            "externalReference": "FA-2026-042",
            "documentState": "Accepted",
        },
    }
    document.update(changes)
    return {name: value for name, value in document.items() if value is not None}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_a_document_status_event_is_read() -> None:
    parsed = parse_cloudevent(body(event()))

    assert isinstance(parsed, CloudEvent)
    assert parsed.id == "7d9f0c52-9a43-4a8e-b8a5-0f6de2d1c3aa"
    assert parsed.type == "DocumentStatus"
    assert parsed.source == "https://api.oneconnect.shine.co"
    assert parsed.time == datetime(2026, 3, 9, 10, 15, 30, 123000, tzinfo=UTC)
    assert parsed.data["documentState"] == "Accepted"
    assert parsed.raw["datacontenttype"] == "application/json"


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2026-03-09T10:15:30Z", datetime(2026, 3, 9, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-09T10:15:30.5Z", datetime(2026, 3, 9, 10, 15, 30, 500000, tzinfo=UTC)),
        ("2026-03-09T10:15:30.123456789Z", datetime(2026, 3, 9, 10, 15, 30, 123456, tzinfo=UTC)),
        ("2026-03-09T11:15:30+01:00", datetime(2026, 3, 9, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-09T10:15:30", datetime(2026, 3, 9, 10, 15, 30, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_aware_utc(time: str, expected: datetime) -> None:
    parsed = parse_cloudevent(body(event(time=time)))

    assert parsed.time == expected
    assert parsed.time.tzinfo is UTC


def test_unknown_types_and_fields_are_tolerated() -> None:
    parsed = parse_cloudevent(
        body(event(type="SomethingNew", traceparent="00-abc", data={"anything": [1, 2]}))
    )

    assert parsed.type == "SomethingNew"
    assert parsed.raw["traceparent"] == "00-abc"
    assert parsed.data == {"anything": [1, 2]}


def test_a_revocation_event_is_read() -> None:
    data = {"integrationId": "0e4b8f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "reason": "SMB Closed"}

    parsed = parse_cloudevent(body(event(type="Revocation", data=data)))

    assert (parsed.type, parsed.data) == ("Revocation", data)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[" * 100_000, "not JSON"),
        (b'["specversion", "1.0"]', "not a JSON object"),
        (b'"1.0"', "not a JSON object"),
        (body(event(specversion="0.3")), "specversion"),
        (body(event(specversion=1.0)), "specversion"),
        (body(event(specversion=None)), "specversion"),
        (body(event(id=None)), "id"),
        (body(event(id="")), "id"),
        (body(event(id=42)), "id"),
        (body(event(type=None)), "type"),
        (body(event(type="")), "type"),
        (body(event(source=None)), "source"),
        (body(event(source="")), "source"),
        (body(event(time=None)), "time"),
        (body(event(time="yesterday")), "time"),
        (body(event(time="2026-13-45T99:00:00Z")), "time"),
        (body(event(time=1773050000)), "time"),
        (body(event(data=None)), "data"),
        (body(event(data="{}")), "data"),
        (body(event(data=[1, 2])), "data"),
    ],
)
def test_bodies_that_are_not_cloudevents_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(NotACloudEvent) as raised:
        parse_cloudevent(raw)

    assert reason in raised.value.reason


@pytest.mark.parametrize("time", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_time_beyond_the_calendar_in_utc_is_not_a_cloudevent(time: str) -> None:
    with pytest.raises(NotACloudEvent, match="out of range"):
        parse_cloudevent(body(event(time=time)))
