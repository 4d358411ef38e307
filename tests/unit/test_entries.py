import json
from datetime import date
from decimal import Decimal

from portal.accounting.entries import EntryLine, entries_payload


def test_entries_json_has_the_shape_and_exact_amounts_the_api_expects() -> None:
    lines = [
        EntryLine(
            date(2026, 3, 9), "ACH", "60100000", Decimal("1234.56"), Decimal("0"), "FA-1", "Office"
        ),
        EntryLine(date(2026, 3, 9), "ACH", "40100000", Decimal("0"), Decimal("1234.56"), "FA-1"),
    ]
    payload = entries_payload(lines)
    text = json.dumps(payload)
    assert '"amount": 1234.56' in text
    first, second = payload["data"]["lines"]
    assert first == {
        "date": "2026-03-09T00:00:00.000Z",
        "debit": {
            "amount": 1234.56,
            "currency": "EUR",
            "currencyAmount": 1234.56,
            "currencyRate": 1,
        },
        "credit": {"amount": 0, "currency": "EUR", "currencyAmount": 0, "currencyRate": 1},
        "journal": "ACH",
        "account": "60100000",
        "reference": "FA-1",
        "label": "Office",
    }
    assert "label" not in second


def test_no_lines_means_no_entries_part() -> None:
    assert entries_payload([]) is None
