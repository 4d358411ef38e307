from decimal import Decimal

import pytest

from portal.accounting.amounts import (
    AmountError,
    ForeignCurrency,
    amount_style,
    euro_marked,
    format_amount,
    parse_amount,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1\u202f234,5", "1234.50"),
        ("0", "0.00"),
        ("", "0.00"),
        ("  12 ", "12.00"),
        ("-5,10", "-5.10"),
    ],
)
def test_amounts_typed_either_way_become_exact_decimals(typed: str, expected: str) -> None:
    assert parse_amount(typed) == Decimal(expected)
    assert str(parse_amount(typed)) == expected


@pytest.mark.parametrize("typed", ["abc", "1,2,3", "12.345", "1e5", "12..3", "€", "EUR", "12€34"])
def test_non_amounts_are_refused(typed: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1000 €", "1000.00"),
        ("1000€", "1000.00"),
        ("1 000 €", "1000.00"),
        ("1\u00a0000\u00a0€", "1000.00"),
        ("1\u202f000,50\u00a0€", "1000.50"),
        ("1 000,50 €", "1000.50"),
        ("€1000", "1000.00"),
        ("€ 1,000.50", "1000.50"),
        ("1000 EUR", "1000.00"),
        ("1000 eur", "1000.00"),
        ("EUR 1 000,50", "1000.50"),
        ("12,30 euros", "12.30"),
        ("-5 €", "-5.00"),
        ("-€5", "-5.00"),
    ],
)
def test_amounts_written_with_the_euro_sign_or_code_are_read(typed: str, expected: str) -> None:
    assert parse_amount(typed) == Decimal(expected)
    assert euro_marked(typed)


def test_the_euro_sign_does_not_change_the_habit_an_amount_was_typed_in() -> None:
    assert amount_style("1 000,50 €") == "fr"
    assert amount_style("€1,000.50") == "en"
    assert not euro_marked("1 000,50")


@pytest.mark.parametrize(
    ("typed", "currency"),
    [("$100", "$"), ("100 $", "$"), ("£12,50", "£"), ("100 USD", "USD"), ("CHF 1 000", "CHF")],
)
def test_another_currency_is_refused_by_name(typed: str, currency: str) -> None:
    with pytest.raises(ForeignCurrency) as refused:
        parse_amount(typed)
    assert refused.value.currency == currency


def test_amounts_are_shown_back_in_the_users_format() -> None:
    assert format_amount(Decimal("1234.5"), "en") == "1,234.50"
    assert format_amount(Decimal("1234.5"), "fr") == "1\u202f234,50"


def test_amounts_beyond_exact_json_numbers_are_refused() -> None:
    assert parse_amount("9 999 999 999 999,99") == Decimal("9999999999999.99")
    with pytest.raises(AmountError):
        parse_amount("10000000000000")
