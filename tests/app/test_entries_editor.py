"""The entries editor: every line field, currencies, totals, helpers, counterparty, preview."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Counterparty, Deposit
from tests import factories
from tests.app import test_deposits
from tests.app.test_deposits import deposit_form, line, send

connected = test_deposits.connected  # the same signed-in member with a sandbox integration
HTMX = {"HX-Request": "true"}
COUNTERPARTY = {
    "counterparty-name": "Fournil Dupont",
    "counterparty-siren": "552 100 554",
    "counterparty-legal_form": "SARL",
    "counterparty-naf": "1071c",
    "counterparty-street": "3 rue du Four",
    "counterparty-postal_code": "75006",
    "counterparty-city": "Paris",
    "counterparty-country": "FR",
    "counterparty-phone_number": "+33 1 23 45 67 89",
    "counterparty-contact_email": "compta@fournil.test",
}


def full_line(index: int, **fields: str) -> dict[str, str]:
    values = {
        "due_date": "2026-04-08",
        "journal_label": "Achats",
        "third_party": "FOURNIL",
        "third_party_siren": "552100554",
        "third_party_label": "Fournil Dupont",
        "document_reference": "F-778",
        "currency": "EUR",
        "currency_rate": "",
    }
    values.update(fields)
    return line(index, **values)


def url(organization: Any, path: str) -> str:
    return f"/organizations/{organization.id}/deposits{path}"


def test_every_line_field_currency_and_counterparty_reach_the_sandbox_exactly(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    data = deposit_form(
        external_reference="FA-2026-100",
        **full_line(0, debit="1 000,00", label="Farine"),
        **full_line(1, credit="92,15", currency="usd", currency_rate="0,9215", debit=""),
        **full_line(2, credit="915.08", account="40100000"),
        **COUNTERPARTY,
    )
    response = send(client, organization, data)
    assert response.status_code == 303, response.get_data(as_text=True)

    [document] = sandbox.state.documents(organization.integration_id)
    first, second, third = document.entries["data"]["lines"]
    assert first == {
        "date": "2026-03-09T00:00:00.000Z",
        "debit": {"amount": 1000, "currency": "EUR", "currencyAmount": 1000, "currencyRate": 1},
        "credit": {"amount": 0, "currency": "EUR", "currencyAmount": 0, "currencyRate": 1},
        "journal": "ACH",
        "account": "60100000",
        "reference": "FA-2026-042",
        "dueDate": "2026-04-08T00:00:00.000Z",
        "journalLabel": "Achats",
        "thirdParty": "FOURNIL",
        "thirdPartySiren": "552100554",
        "thirdPartyLabel": "Fournil Dupont",
        "label": "Farine",
        "documentReference": "F-778",
    }
    # 92.15 USD at 0.9215 EUR each: 84.917225 → 84.92 EUR, rounded half up once.
    assert second["credit"] == {
        "amount": 84.92,
        "currency": "USD",
        "currencyAmount": 92.15,
        "currencyRate": 0.9215,
    }
    assert second["debit"] == {
        "amount": 0,
        "currency": "USD",
        "currencyAmount": 0,
        "currencyRate": 0.9215,
    }
    assert third["credit"]["amount"] == 915.08 and third["credit"]["currencyRate"] == 1
    assert '"amount":915.08' in document.entries_json
    assert document.organization == {
        "name": "Fournil Dupont",
        "siren": "552100554",
        "legalForm": "SARL",
        "naf": "10.71C",
        "phoneNumber": "+33 1 23 45 67 89",
        "contactEmail": "compta@fournil.test",
        "address": {
            "street": "3 rue du Four",
            "postalCode": "75006",
            "city": "Paris",
            "country": "FR",
        },
    }
    remembered = db.session.scalars(select(Counterparty)).one()
    assert (remembered.name, remembered.siren, remembered.city) == (
        "Fournil Dupont",
        "552100554",
        "Paris",
    )


def test_optional_members_are_left_out_when_blank(client: FlaskClient, connected, sandbox) -> None:
    organization, _ = connected
    send(client, organization, deposit_form(**line(0, debit="5"), **line(1, credit="5")))
    [document] = sandbox.state.documents()
    assert set(document.entries["data"]["lines"][0]) == {
        "date",
        "debit",
        "credit",
        "journal",
        "account",
        "reference",
    }
    assert document.organization is None
    assert db.session.scalars(select(Counterparty)).first() is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"debit": "10", "currency": "US"}, "three-letter code"),
        ({"debit": "10", "currency": "USD"}, "Give the exchange rate"),
        ({"debit": "10", "currency_rate": "1,2"}, "A line in EUR has exchange rate 1"),
        ({"debit": "10", "currency": "USD", "currency_rate": "abc"}, "Type a positive rate"),
        ({"debit": "10", "currency": "USD", "currency_rate": "0"}, "Type a positive rate"),
        ({"debit": "10", "currency": "USD", "currency_rate": "1.1234567"}, "six decimals"),
        (
            {"debit": "9 000 000 000 000", "currency": "USD", "currency_rate": "2"},
            "Converted to euros, this amount is too large",
        ),
        ({"debit": "10", "third_party_siren": "552100555"}, "A SIREN is 9 digits"),
        ({"debit": "10", "third_party_siren": "55210055"}, "A SIREN is 9 digits"),
        ({"debit": "10", "due_date": "09/04/2026"}, "Not a valid date"),
        ({"debit": "10", "journal": "J" * 21}, "20 characters"),
        ({"debit": "10", "document_reference": "D" * 101}, "100 characters"),
    ],
)
def test_each_line_rule_is_shown_on_its_line_and_nothing_is_sent(
    client: FlaskClient, connected, sandbox, fields: dict[str, str], message: str
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, **fields)))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    line_markup = page[page.index('id="lines-0"') :]
    assert message in line_markup[: line_markup.index("</fieldset>")]
    assert sandbox.state.documents() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"counterparty-siren": "123456789"}, "A SIREN is 9 digits"),
        ({"counterparty-naf": "ABCDE"}, "A NAF code is four digits"),
        ({"counterparty-contact_email": "not-an-address"}, "Enter an e-mail address"),
        ({"counterparty-phone_number": "call me"}, "Type a phone number"),
        ({"counterparty-name": "", "counterparty-city": "Lyon"}, "Give the counterparty's name"),
    ],
)
def test_each_counterparty_rule_is_shown_next_to_its_field(
    client: FlaskClient, connected, sandbox, fields: dict[str, str], message: str
) -> None:
    organization, _ = connected
    data = deposit_form(**{"counterparty-name": "Fournil Dupont", **fields})
    response = send(client, organization, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert sandbox.state.documents() == []


def test_an_unbalanced_set_needs_the_explicit_confirmation(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    lines = {**line(0, debit="100"), **line(1, credit="90")}
    response = send(client, organization, deposit_form(**lines))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Debits and credits differ by 10.00" in page
    assert "Send although debits and credits differ" in page
    assert 'id="unbalanced-confirmation" class="field has-error">' in page
    assert sandbox.state.documents() == []

    confirmed = deposit_form(**lines, confirm_unbalanced="y")
    assert send(client, organization, confirmed).status_code == 303
    [document] = sandbox.state.documents()
    assert [entry["debit"]["amount"] for entry in document.entries["data"]["lines"]] == [100, 0]


def test_the_entries_size_limit_of_the_api_is_checked_before_sending(
    client: FlaskClient, connected, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.oneconnect import spec

    monkeypatch.setattr(spec, "MAX_ENTRIES_BYTES", 300)
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, debit="5"), **line(1, credit="5")))
    assert response.status_code == 422
    assert "larger than OneConnect accepts (5 MB)" in response.get_data(as_text=True)
    assert sandbox.state.documents() == []


def test_a_field_checked_on_blur_uses_the_send_validators(client: FlaskClient, connected) -> None:
    organization, _ = connected
    check = url(organization, "/check")
    bad = client.get(check, query_string={"field": "lines-4-debit", **line(4, debit="12,345")})
    fragment = bad.get_data(as_text=True)
    assert "Type an amount such as" in fragment
    assert 'aria-invalid="true"' in fragment and 'role="alert"' in fragment
    assert 'aria-describedby="lines-4-debit-error"' in fragment
    assert "<html" not in fragment

    good = client.get(check, query_string={"field": "lines-4-debit", **line(4, debit="1234,5")})
    fragment = good.get_data(as_text=True)
    assert 'value="1\u202f234,50"' in fragment  # shown back the French way, as typed
    assert "aria-invalid" not in fragment
    assert 'id="lines-4-errors" hx-swap-oob="innerHTML"' in fragment

    both = client.get(
        check, query_string={"field": "lines-4-credit", **line(4, debit="5", credit="5")}
    ).get_data(as_text=True)
    assert "either in Debit or in Credit" in both

    english = client.get(
        check, query_string={"field": "lines-4-credit", **line(4, credit="1234.5")}
    ).get_data(as_text=True)
    assert 'value="1,234.50"' in english

    siren = client.get(
        check,
        query_string={"field": "counterparty-siren", "counterparty-siren": "552100555"},
    ).get_data(as_text=True)
    assert "A SIREN is 9 digits" in siren and 'id="counterparty-siren"' in siren
    assert client.get(check, query_string={"field": "lines-1-nope"}).status_code == 404


def test_totals_follow_the_typed_amounts_and_reveal_the_confirmation(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    totals = url(organization, "/lines/totals")
    balanced = client.post(
        totals, data={**line(0, debit="1 234,56"), **line(3, credit="1234,56")}, headers=HTMX
    ).get_data(as_text=True)
    assert re.search(r'id="total-debit" class="amount">1\u202f234,56<', balanced)
    assert "Balanced" in balanced
    assert 'id="unbalanced-confirmation" class="field" hx-swap-oob="true" hidden' in balanced

    unbalanced = client.post(
        totals,
        data={
            **line(0, debit="100.10"),
            **line(1, credit="10", currency="USD", currency_rate="0.5"),
            **line(2, credit="abc"),
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert re.search(r'id="total-credit" class="amount">5.00<', unbalanced)
    assert "Unbalanced: debits exceed credits by 95.10." in unbalanced
    assert "Line 3 is left out of the totals until its amounts can be read." in unbalanced
    assert 'id="unbalanced-confirmation" class="field" hx-swap-oob="true">' in unbalanced


@pytest.mark.parametrize(
    ("headers", "sentence"),
    [
        ({}, "Lines 1, 3, and 4 are left out of the totals until their amounts can be read."),
        (
            {"Accept-Language": "fr"},
            "Les lignes 1, 3 et 4 ne sont pas comptées dans les totaux tant que leurs montants "
            "sont illisibles.",
        ),
    ],
)
def test_the_lines_left_out_of_the_totals_are_listed_in_words(
    client: FlaskClient, connected, headers: dict[str, str], sentence: str
) -> None:
    organization, _ = connected
    lines = {
        **line(0, debit="abc"),
        **line(1, debit="10"),
        **line(2, credit="1,2,3"),
        **line(3, debit="12.345"),
    }
    page = client.post(
        url(organization, "/lines/totals"), data=lines, headers={**HTMX, **headers}
    ).get_data(as_text=True)
    assert sentence in page


def test_the_preview_lists_the_lines_with_errors_in_words(client: FlaskClient, connected) -> None:
    organization, _ = connected
    fragment = client.post(
        url(organization, "/preview"),
        data={**line(0, credit="oops"), **line(1, debit="5"), **line(2, debit="x")},
        headers={**HTMX, "Accept-Language": "fr"},
    ).get_data(as_text=True)
    assert (
        "Les lignes 1 et 3 contiennent des erreurs\u00a0: elles sont omises ci-dessous jusqu'à "
        "leur correction."
    ) in fragment.replace("&#39;", "'")


def test_amounts_written_with_the_euro_sign_are_sent_as_amounts(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    data = deposit_form(
        **line(0, debit="1\u202f000,50\u00a0€"),
        **line(1, credit="€1 000.50"),
    )
    response = send(client, organization, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    [document] = sandbox.state.documents(organization.integration_id)
    debit, credit = document.entries["data"]["lines"]
    assert debit["debit"]["amount"] == 1000.5 and credit["credit"]["amount"] == 1000.5


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"debit": "$100"}, "Type the amount without “$”: the line's currency goes in the"),
        ({"debit": "100 USD"}, "Type the amount without “USD”"),
        (
            {"debit": "100 €", "currency": "USD", "currency_rate": "0.9"},
            "This line is in USD: type the amount without the euro sign, or change the currency",
        ),
    ],
)
def test_an_amount_in_another_currency_says_where_the_currency_goes(
    client: FlaskClient, connected, sandbox, fields: dict[str, str], message: str
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, **fields)))
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    line_markup = page[page.index('id="lines-0"') :]
    assert message in line_markup[: line_markup.index("</fieldset>")]
    assert sandbox.state.documents() == []


def test_duplicate_copies_the_line_after_every_index_on_the_page(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    response = client.post(
        url(organization, "/lines/duplicate"),
        data={
            **full_line(0, debit="10", label="Copy me"),
            **line(5, credit="10"),
            "lines-0-duplicate": "y",
        },
        headers=HTMX,
    )
    fragment = response.get_data(as_text=True)
    assert 'id="lines-6"' in fragment and "<legend>Line 2</legend>" in fragment
    assert 'id="lines-6-label"' in fragment and 'value="Copy me"' in fragment
    assert 'value="F-778"' in fragment
    assert "data-autofocus" in fragment
    for label in ("Date", "Journal", "Account", "Debit", "Credit", "Reference", "Label"):
        assert f'<label for="lines-6-{label.lower()}">{label}</label>' in fragment
    assert ">Duplicate</button>" in fragment and ">Remove</button>" in fragment


def test_the_vat_helper_books_a_purchase_and_a_sale(client: FlaskClient, connected) -> None:
    organization, _ = connected
    helper = {
        "vat-net": "1 000,00",
        "vat-rate": "5.5",
        "vat-booked_on": "2026-03-09",
        "vat-journal": "ACH",
        "vat-main_account": "607",
        "vat-vat_account": "44566",
        "vat-party_account": "401",
    }
    purchase = client.post(
        url(organization, "/lines/vat"),
        data={"kind": "purchase", "external_reference": "FA-9", **line(2, debit="1"), **helper},
        headers=HTMX,
    ).get_data(as_text=True)
    assert re.findall(r'<fieldset class="entry-line" id="([^"]+)"', purchase) == [
        "lines-3",
        "lines-4",
        "lines-5",
    ]
    values = dict(
        re.findall(
            r'id="(lines-\d-(?:account|debit|credit|reference))"[^>]*value="([^"]*)"', purchase
        )
    )
    assert values == {
        "lines-3-account": "607", "lines-3-debit": "1\u202f000,00", "lines-3-credit": "", "lines-3-reference": "FA-9",
        "lines-4-account": "44566", "lines-4-debit": "55,00", "lines-4-credit": "", "lines-4-reference": "FA-9",
        "lines-5-account": "401", "lines-5-debit": "", "lines-5-credit": "1\u202f055,00", "lines-5-reference": "FA-9",
    }  # fmt: skip

    sale = client.post(
        url(organization, "/lines/vat"),
        data={"kind": "sales", "generated_reference": "OCP-1", **helper, "vat-net": "200", "vat-rate": "20",
              "vat-journal": "ACH", "vat-main_account": "607", "vat-vat_account": "44566", "vat-party_account": "401"},
        headers=HTMX,
    ).get_data(as_text=True)  # fmt: skip
    values = dict(
        re.findall(r'id="(lines-\d-(?:account|debit|credit|journal))"[^>]*value="([^"]*)"', sale)
    )
    assert values == {
        "lines-0-journal": "VTE", "lines-0-account": "411", "lines-0-debit": "240.00", "lines-0-credit": "",
        "lines-1-journal": "VTE", "lines-1-account": "706", "lines-1-debit": "", "lines-1-credit": "200.00",
        "lines-2-journal": "VTE", "lines-2-account": "44571", "lines-2-debit": "", "lines-2-credit": "40.00",
    }  # fmt: skip

    refused = client.post(
        url(organization, "/lines/vat"), data={**helper, "vat-net": "-3"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#vat-helper-body"
    assert "Type the net amount" in refused.get_data(as_text=True)


def test_the_invoice_type_switches_the_helpers_defaults_but_keeps_edited_accounts(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    fragment = client.post(
        url(organization, "/vat-defaults"),
        data={"kind": "sales", "vat-main_account": "6064", "vat-vat_account": "44566", "vat-journal": "ACH"},
        headers=HTMX,
    ).get_data(as_text=True)  # fmt: skip
    assert (
        'id="vat-main_account" maxlength="40" name="vat-main_account" type="text" value="6064"'
        in fragment
    )
    assert 'value="44571"' in fragment and 'value="411"' in fragment and 'value="VTE"' in fragment


def test_pasted_rows_become_lines_with_their_errors(client: FlaskClient, connected) -> None:
    organization, _ = connected
    rows = (
        "Date;Journal;Compte;Débit;Crédit;Référence;Libellé;Échéance\n"
        "09/03/2026;ACH;607;1 000,00;;FA-1;Farine;08/04/2026\n"
        "09/03/2026;ACH;401;;1000;FA-1;;\n"
        "09/03/2026;ACH;;12,345;;FA-1;;\n"
    )
    response = client.post(
        url(organization, "/lines/paste"),
        data={**line(0, debit="1"), "paste-rows": rows},
        headers=HTMX,
    )
    fragment = response.get_data(as_text=True)
    assert re.findall(r'<fieldset class="entry-line" id="([^"]+)"', fragment) == [
        "lines-1",
        "lines-2",
        "lines-3",
    ]
    assert (
        'id="lines-1-due_date" name="lines-1-due_date" type="date" value="2026-04-08"' in fragment
    )
    assert 'value="1\u202f000,00"' in fragment
    third = fragment[fragment.index('id="lines-3"') :]
    assert "Enter an account" in third and "Type an amount such as" in third
    assert "3 lines added." in fragment and "Lines with errors are marked" in fragment

    refused = client.post(
        url(organization, "/lines/paste"), data={"paste-rows": "Date\tMontant\n1\t2"}, headers=HTMX
    )
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "#paste-panel"
    text = refused.get_data(as_text=True)
    assert "Unknown column “Montant”" in text and "must name these columns too" in text


def test_the_preview_shows_exactly_the_parts_send_would_deliver(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    response = client.post(
        url(organization, "/preview"),
        data={
            **line(0, debit="12,50", label="Café"),
            **line(1, credit="oops"),
            "counterparty-name": "Fournil Dupont",
        },
        headers=HTMX,
    )
    fragment = response.get_data(as_text=True)
    entries = re.search(r'<pre id="preview-entries"[^>]*><code>(.*?)</code></pre>', fragment, re.S)
    parsed = json.loads(entries.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert parsed["data"]["lines"][0]["debit"]["amount"] == 12.5
    assert parsed["data"]["lines"][0]["label"] == "Café"
    assert len(parsed["data"]["lines"]) == 1
    assert "Line 2 has errors: it is left out below until corrected." in fragment
    assert "Fournil Dupont" in fragment and "of the 5,000,000 OneConnect accepts" in fragment


def test_counterparties_used_before_are_suggested_and_fill_the_fields(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    send(client, organization, deposit_form(**COUNTERPARTY))
    send(client, organization, deposit_form(**{**COUNTERPARTY, "counterparty-city": "Lyon"}))
    assert db.session.scalars(select(Counterparty)).one().city == "Lyon"
    party = db.session.scalars(select(Counterparty)).one()

    suggestions = client.get(
        url(organization, "/counterparties"),
        query_string={"counterparty-name": "dupo"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert "Fournil Dupont — 552100554 — Lyon" in suggestions
    assert f"/counterparties/{party.id}" in suggestions
    none = client.get(
        url(organization, "/counterparties"), query_string={"counterparty-name": "zz"}, headers=HTMX
    ).get_data(as_text=True)
    assert "<button" not in none

    filled = client.get(url(organization, f"/counterparties/{party.id}"), headers=HTMX)
    fragment = filled.get_data(as_text=True)
    assert 'id="counterparty-siren"' in fragment and 'value="552100554"' in fragment
    assert 'value="Lyon"' in fragment and 'value="10.71C"' in fragment


def test_another_organizations_counterparties_stay_hidden(
    client: FlaskClient, connected, login_as
) -> None:
    organization, _ = connected
    other_owner = factories.user()
    other = factories.organization(other_owner)
    theirs = Counterparty(organization_id=other.id, name="Secret Supplier")
    db.session.add(theirs)
    db.session.commit()
    assert "Secret" not in client.get(
        url(organization, "/counterparties"), query_string={"counterparty-name": "Secret"}
    ).get_data(as_text=True)
    assert client.get(url(organization, f"/counterparties/{theirs.id}")).status_code == 404
    assert client.get(url(other, f"/counterparties/{theirs.id}")).status_code == 404
    assert client.post(url(other, "/lines/totals")).status_code == 404


def test_without_script_duplicate_vat_and_paste_rebuild_the_form(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    data = deposit_form(**line(0, debit="10", reference="KEEP-1"), **line(1, credit="10"))
    data["lines-0-duplicate"] = "y"
    page = send(client, organization, data).get_data(as_text=True)
    assert page.count('value="KEEP-1"') == 2 and 'id="lines-2-date"' in page
    assert "<legend>Line 3</legend>" in page

    data = deposit_form(**{"vat-net": "100", "vat-rate": "20", "vat-generate": "y"})
    page = send(client, organization, data).get_data(as_text=True)
    assert 'id="lines-2-credit"' in page and 'value="120.00"' in page

    data = deposit_form(**{"paste-rows": "Date\tJournal\tAccount\tDebit\tReference\n2026-03-09\tACH\t607\t5\tR1", "paste-add": "y"})  # fmt: skip
    page = send(client, organization, data).get_data(as_text=True)
    assert 'id="lines-0-account"' in page and 'value="607"' in page
    assert sandbox.state.documents() == []


def test_the_deposit_page_shows_the_lines_with_totals_and_the_counterparty(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    data = deposit_form(
        **full_line(0, debit="0,10"),
        **full_line(1, debit="0,20"),
        **full_line(2, credit="10", currency="USD", currency_rate="0.03"),
        **COUNTERPARTY,
    )
    response = send(client, organization, data)
    deposit = db.session.scalars(select(Deposit)).one()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    table = page[page.index('id="entries-table"') :]
    assert re.search(r'id="total-debit">0.30<', table)  # 0.1 + 0.2, exactly
    assert re.search(r'id="total-credit">0.30<', table)
    assert "Balanced" in table and "10.00 USD" in table and "F-778" in table
    assert "Fournil Dupont" in page and "3 rue du Four, 75006, Paris, FR" in page
    assert deposit.counterparty["siren"] == "552100554"


@pytest.mark.parametrize(
    ("field", "value"), [("currency", "EURO"), ("currency", "US"), ("currency", "EU1")]
)
def test_a_currency_must_be_exactly_three_letters(client, connected, sandbox, field, value) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, debit="10", **{field: value})))
    assert response.status_code == 422
    assert "three-letter code" in response.get_data(as_text=True)
    assert sandbox.state.documents() == []
