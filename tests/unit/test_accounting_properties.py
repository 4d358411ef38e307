"""Amounts, conversions and entry totals hold exactly, whatever the amounts (hypothesis)."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.accounting.amounts import (
    CENT,
    MAX_AMOUNT,
    AmountError,
    amount_style,
    format_amount,
    parse_amount,
    parse_rate,
    to_eur,
)
from portal.accounting.entries import (
    EntryLine,
    balance,
    entries_json,
    entries_payload,
    payload_totals,
)

# No example database in the working tree, no flaky deadlines on a busy machine.
fast = settings(database=None, deadline=None, max_examples=200)

cents = st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100))
amounts = cents.map(lambda value: Decimal(value).scaleb(-2))
styles = st.sampled_from(["fr", "en"])
rates = st.integers(min_value=1, max_value=999_999_999).map(lambda value: Decimal(value).scaleb(-6))


@st.composite
def typed_amounts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """An amount as a person types it: grouping or not, comma or point, 0 to 2 decimals."""
    whole = draw(st.integers(min_value=0, max_value=999_999_999_999))
    places = draw(st.integers(min_value=0, max_value=2))
    fraction = draw(st.integers(min_value=0, max_value=10**places - 1)) if places else 0
    mark = draw(st.sampled_from([",", "."]))
    # A point or comma between thousands only reads as grouping beside the other decimal mark
    # (`1.000` is one, the English way): parse_amount's documented rule.
    marks = ([","] if mark == "." else ["."]) if places else []
    grouping = draw(st.sampled_from(["", " ", "\u202f", "\u00a0", "'", *marks]))
    digits = f"{whole:,}".replace(",", grouping)
    text = digits + (f"{mark}{fraction:0{places}d}" if places else "")
    value = Decimal(whole) + (Decimal(fraction).scaleb(-places) if places else 0)
    return text, value.quantize(CENT)


@fast
@given(amounts, styles)
def test_a_formatted_amount_reads_back_exactly(value: Decimal, style: str) -> None:
    shown = format_amount(value, style)
    assert parse_amount(shown) == value
    assert amount_style(shown) == style
    assert shown.endswith(f"{'.' if style == 'en' else ','}{int(value * 100) % 100:02d}")


@fast
@given(typed_amounts())
def test_what_people_type_becomes_the_exact_decimal_and_is_shown_back_their_way(
    typed: tuple[str, Decimal],
) -> None:
    text, value = typed
    parsed = parse_amount(text)
    assert parsed == value and parsed.as_tuple().exponent == -2
    style = amount_style(text)
    if style is not None and not (style == "en" and text.count(".") == 0):
        shown = format_amount(parsed, style)
        assert amount_style(shown) == style
        assert parse_amount(shown) == parsed


@fast
@given(st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=40))
def test_totals_are_exact_sums_also_once_through_the_json(
    sides: list[tuple[Decimal, bool]],
) -> None:
    lines = [
        EntryLine(date(2026, 3, 9), "ACH", "607", amount if debit else Decimal(0), Decimal(0) if debit else amount, "R")
        for amount, debit in sides
    ]  # fmt: skip
    totals = balance(lines)
    assert totals.debit == sum((amount for amount, debit in sides if debit), Decimal(0))
    assert totals.credit == sum((amount for amount, debit in sides if not debit), Decimal(0))
    payload = entries_payload(lines)
    sent = json.loads(entries_json(payload))
    assert payload_totals(sent) == totals
    for line, (amount, _) in zip(sent["data"]["lines"], sides, strict=True):
        side = line["debit"] if line["debit"]["amount"] else line["credit"]
        assert Decimal(repr(side["amount"])) == amount or amount == 0


@fast
@given(amounts, rates)
def test_conversion_rounds_half_up_once_and_json_keeps_it(amount: Decimal, rate: Decimal) -> None:
    euros = to_eur(amount, rate)
    exact = amount * rate
    assert euros.as_tuple().exponent == -2
    assert abs(euros - exact) <= Decimal("0.005")
    assert euros == exact.quantize(CENT, rounding=ROUND_HALF_UP)
    if euros <= MAX_AMOUNT:
        line = EntryLine(
            date(2026, 3, 9),
            "ACH",
            "607",
            amount,
            Decimal(0),
            "R",
            currency="USD",
            currency_rate=rate,
        )
        debit = json.loads(entries_json(entries_payload([line])))["data"]["lines"][0]["debit"]
        assert Decimal(repr(debit["amount"])) == euros
        assert Decimal(repr(debit["currencyAmount"])) == amount
        assert Decimal(repr(debit["currencyRate"])) == rate


@fast
@given(amounts)
def test_euro_lines_carry_rate_one_and_equal_amounts(amount: Decimal) -> None:
    line = EntryLine(date(2026, 3, 9), "VTE", "706", Decimal(0), amount, "R")
    credit = entries_payload([line])["data"]["lines"][0]["credit"]
    assert credit["currencyRate"] == 1 and credit["currency"] == "EUR"
    assert credit["amount"] == credit["currencyAmount"]


@pytest.mark.parametrize(
    ("typed", "expected"), [("0,9215", "0.9215"), ("1.08", "1.08"), ("2", "2"), ("", None)]
)
def test_rates_are_read_either_way(typed: str, expected: str | None) -> None:
    assert parse_rate(typed) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize("typed", ["0", "-1", "1,2,3", "0.0000001", "1e3", "abc", "1000000"])
def test_bad_rates_are_refused(typed: str) -> None:
    with pytest.raises(AmountError):
        parse_rate(typed)
