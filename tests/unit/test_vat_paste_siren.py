"""The VAT booking helper, the spreadsheet paste and SIREN check digits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.accounting.entries import LineProblem, balance, line_problems
from portal.accounting.identifiers import normalize_naf, siren_valid
from portal.accounting.paste import parse_paste
from portal.accounting.vat import VAT_RATES, BookingError, book_invoice, vat_amount

fast = settings(database=None, deadline=None, max_examples=200)
DAY = date(2026, 3, 9)


@fast
@given(
    st.integers(min_value=1, max_value=10**11).map(lambda value: Decimal(value).scaleb(-2)),
    st.sampled_from(VAT_RATES),
    st.sampled_from(["purchase", "sales"]),
)
def test_a_booked_invoice_is_always_balanced(net: Decimal, rate: Decimal, kind: str) -> None:
    lines = book_invoice(kind, net, rate, entry_date=DAY, reference="FA-1")
    totals = balance(lines)
    assert totals.balanced and totals.debit == net + vat_amount(net, rate)
    assert all(line.reference == "FA-1" and line.date == DAY for line in lines)
    assert len(lines) == (2 if vat_amount(net, rate) == 0 else 3)


def test_a_purchase_and_a_sale_use_the_french_accounts_and_journals() -> None:
    purchase = book_invoice(
        "purchase", Decimal("100.00"), Decimal("5.5"), entry_date=DAY, reference="R"
    )
    assert [(e.journal, e.account, e.debit, e.credit) for e in purchase] == [
        ("ACH", "607", Decimal("100.00"), 0),
        ("ACH", "44566", Decimal("5.50"), 0),
        ("ACH", "401", 0, Decimal("105.50")),
    ]  # fmt: skip
    sale = book_invoice("sales", Decimal("33.33"), Decimal("2.1"), entry_date=DAY, reference="R")
    assert [(e.journal, e.account, e.debit, e.credit) for e in sale] == [
        ("VTE", "411", Decimal("34.03"), 0),
        ("VTE", "706", 0, Decimal("33.33")),
        ("VTE", "44571", 0, Decimal("0.70")),
    ]  # fmt: skip
    assert vat_amount(Decimal("0.10"), Decimal("5.5")) == Decimal("0.01")  # 0.0055 half up


@pytest.mark.parametrize(
    ("kind", "net", "rate"),
    [
        ("refund", "1", "20"),
        ("purchase", "1", "19.6"),
        ("purchase", "0", "20"),
        ("sales", "1.001", "20"),
    ],
)
def test_impossible_bookings_are_refused(kind: str, net: str, rate: str) -> None:
    with pytest.raises(BookingError):
        book_invoice(kind, Decimal(net), Decimal(rate), entry_date=DAY, reference="R")


def test_pasted_rows_with_french_headers_and_semicolons() -> None:
    pasted = parse_paste(
        "Date;Journal;Compte;Débit;Crédit;Pièce;Libellé;Devise;Taux\r\n"
        "09/03/2026;ACH;607;92,15;;F1;Café;USD;0,9215\r\n"
        "\r\n"
        "2026-03-09;ACH;401;;84,92;F1;;;\r\n"
    )
    assert pasted.issues == [] and pasted.row_issues == []
    first, second = pasted.lines
    assert (first.currency, first.currency_rate, first.eur_debit) == (
        "USD",
        Decimal("0.9215"),
        Decimal("84.92"),
    )
    assert second.credit == Decimal("84.92") and second.currency == "EUR"
    assert balance(pasted.lines).balanced


def test_pasted_rows_with_english_headers_tabs_and_row_errors() -> None:
    pasted = parse_paste(
        "date\tjournal\taccount\tdebit\tcredit\treference\tdue date\tthird party SIREN\n"
        "3/9/2026\tACH\t607\t10\t\tR\t31/02/2026\t552100554\n"
        "09/03/2026\tACH\t401\t5\t5\tR\t\t\n"
        "09/03/2026\tACH\t\tx\t\t\t\t\n"
    )
    assert pasted.lines == []
    issues = {(issue.row, issue.kind, issue.column) for issue in pasted.row_issues}
    assert (1, "date", "due_date") in issues
    assert (2, LineProblem.BOTH_SIDES.value, None) in issues
    assert {
        (3, "missing", "account"),
        (3, "missing", "reference"),
        (3, "amount", "debit"),
    } <= issues
    assert pasted.rows[0].values["date"] == "2026-09-03"  # day first, the French way


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "no_rows"),
        ("Date;Journal\n", "missing_columns"),
        ("Date;Colour;Account\n1;2;3", "unknown_column"),
    ],
)
def test_a_paste_without_a_usable_header_says_why(text: str, kind: str) -> None:
    assert kind in {issue.kind for issue in parse_paste(text).issues}


@fast
@given(st.integers(min_value=0, max_value=99_999_999))
def test_exactly_one_check_digit_makes_a_siren(body: int) -> None:
    valid = [digit for digit in range(10) if siren_valid(f"{body:08d}{digit}")]
    assert len(valid) == 1


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("552 100 554", True),
        ("732829320", True),
        ("552100555", False),
        ("55210055", False),
        ("\uff15\uff15\uff12\uff11\uff10\uff10\uff15\uff15\uff14", False),
    ],
)
def test_siren_examples(text: str, valid: bool) -> None:
    assert siren_valid(text) is valid


def test_naf_codes_are_normalised() -> None:
    assert normalize_naf("6201z") == "62.01Z" and normalize_naf("62.01Z") == "62.01Z"
    assert normalize_naf("620Z") is None


def test_line_rules() -> None:
    one = Decimal(1)
    assert line_problems(one, Decimal(0), "EUR", None) == []
    assert line_problems(one, one, "EUR", None) == [LineProblem.BOTH_SIDES]
    assert line_problems(Decimal(0), Decimal(0), "EUR", None) == [LineProblem.NO_SIDE]
    assert line_problems(one, Decimal(0), "USD", None) == [LineProblem.RATE_MISSING]
    assert line_problems(one, Decimal(0), "EUR", Decimal(2)) == [LineProblem.EUR_RATE_NOT_ONE]
