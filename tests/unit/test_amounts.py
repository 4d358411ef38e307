from decimal import Decimal

import pytest

from portal.accounting.amounts import AmountError, format_amount, parse_amount


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


@pytest.mark.parametrize("typed", ["abc", "1,2,3", "12.345", "1e5", "12..3", "€12"])
def test_non_amounts_are_refused(typed: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(typed)


def test_amounts_are_shown_back_in_the_users_format() -> None:
    assert format_amount(Decimal("1234.5"), "en") == "1,234.50"
    assert format_amount(Decimal("1234.5"), "fr") == "1\u202f234,50"


def test_amounts_beyond_exact_json_numbers_are_refused() -> None:
    assert parse_amount("9 999 999 999 999,99") == Decimal("9999999999999.99")
    with pytest.raises(AmountError):
        parse_amount("10000000000000")
