"""The entries editor in a real browser: keyboard, live totals, helpers, counterparty."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from portal.extensions import db
from portal.models import Counterparty, Organization
from tests.browser.conftest import LivePortal, open_form_sections
from tests.browser.test_journey import connect, register
from tests.support import invoices

NNBSP = "\u202f"


@pytest.fixture
def deposit_page(page: Page, live_portal: LivePortal, tmp_path: Path) -> str:
    """A member on the deposit form of a connected organization, the invoice chosen."""
    integration_id, secret = live_portal.sandbox.create_integration("Fournil")
    register(page, "anne@fournil.test")
    connect(page, "Fournil", integration_id, secret)
    page.get_by_role("link", name="Deposit an invoice").click()
    open_form_sections(page)
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(invoices.pdf())
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    page.get_by_label("External reference").fill("FA-77")
    return integration_id


def line(page: Page, number: int) -> Locator:
    return page.get_by_role("group", name=f"Line {number}", exact=True)


def fill(group: Locator, **values: str) -> None:
    for label, value in values.items():
        group.get_by_label(label.replace("_", " ").capitalize(), exact=True).fill(value)


def test_lines_are_added_duplicated_and_removed_with_the_keyboard(
    page: Page, deposit_page: str
) -> None:
    page.get_by_role("button", name="Add line").focus()
    page.keyboard.press("Enter")
    expect(line(page, 1).get_by_label("Date", exact=True)).to_be_focused()
    fill(
        line(page, 1),
        date="2026-03-09",
        journal="ACH",
        account="607",
        debit="10,00",
        reference="R1",
    )
    page.get_by_role("button", name="Add line").press("Enter")
    expect(line(page, 2).get_by_label("Date", exact=True)).to_be_focused()
    fill(
        line(page, 2),
        date="2026-03-09",
        journal="ACH",
        account="401",
        credit="10,00",
        reference="R2",
    )

    # Tab order follows the row: from Label, past the tucked-away fields, to Duplicate.
    line(page, 1).get_by_label("Label", exact=True).focus()
    page.keyboard.press("Tab")
    expect(line(page, 1).get_by_text("More fields")).to_be_focused()
    page.keyboard.press("Tab")
    duplicate = line(page, 1).get_by_role("button", name="Duplicate")
    expect(duplicate).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("fieldset.entry-line")).to_have_count(3)
    expect(line(page, 2).get_by_label("Date", exact=True)).to_be_focused()
    expect(line(page, 2).get_by_label("Account", exact=True)).to_have_value("607")
    expect(line(page, 3).get_by_label("Account", exact=True)).to_have_value("401")
    expect(page.locator("#total-debit")).to_have_text("20,00")

    line(page, 1).get_by_role("button", name="Remove").press("Enter")
    expect(page.locator("fieldset.entry-line")).to_have_count(2)
    expect(page.locator("fieldset.entry-line legend")).to_have_text(["Line 1", "Line 2"])
    expect(line(page, 1).get_by_label("Date", exact=True)).to_be_focused()
    expect(line(page, 2).get_by_label("Account", exact=True)).to_have_value("401")
    expect(page.locator("#announcer")).to_have_text("Line removed.")
    expect(page.locator("#balance-state")).to_have_text("✓ Balanced")


def test_totals_follow_typing_and_an_unbalanced_send_needs_confirmation(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    page.get_by_role("button", name="Add line").click()
    fill(
        line(page, 1),
        date="2026-03-09",
        journal="ACH",
        account="607",
        debit="1234.5",
        reference="FA-77",
    )
    expect(page.locator("#total-debit")).to_have_text("1,234.50")
    expect(page.locator("#balance-state")).to_have_text(
        "✗ Unbalanced: debits exceed credits by 1,234.50."
    )
    page.get_by_role("button", name="Add line").click()
    fill(
        line(page, 2),
        date="2026-03-09",
        journal="ACH",
        account="401",
        credit="1 200,00",
        reference="FA-77",
    )
    expect(page.locator("#total-credit")).to_have_text("1,200.00")
    expect(page.locator("#total-difference")).to_have_text("34.50")
    # The amount left is shown back the way it was typed, once checked on blur.
    expect(line(page, 1).get_by_label("Debit", exact=True)).to_have_value("1,234.50")

    confirmation = page.get_by_label("Send although debits and credits differ")
    expect(confirmation).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_role("alert").filter(has_text="Debits and credits differ by 34.50")
    ).to_be_visible()
    assert live_portal.sandbox.documents() == []

    page.get_by_label("Invoice file").set_input_files(
        {"name": "facture.pdf", "mimeType": "application/pdf", "buffer": invoices.pdf()}
    )
    page.get_by_label("Send although debits and credits differ").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="facture.pdf")).to_be_visible()
    [document] = live_portal.sandbox.documents(deposit_page)
    assert [entry["debit"]["amount"] for entry in document.entries["data"]["lines"]] == [1234.5, 0]
    assert [entry["credit"]["amount"] for entry in document.entries["data"]["lines"]] == [0, 1200]


def test_a_field_is_checked_when_left_and_its_error_is_read_out(
    page: Page, deposit_page: str
) -> None:
    page.get_by_role("button", name="Add line").click()
    debit = line(page, 1).get_by_label("Debit", exact=True)
    debit.fill("12,345")
    debit.press("Tab")
    error = line(page, 1).get_by_role("alert").filter(has_text="Type an amount such as")
    expect(error).to_be_visible()
    expect(line(page, 1).get_by_label("Debit", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(line(page, 1).get_by_label("Credit", exact=True)).to_be_focused()

    line(page, 1).get_by_text("More fields").click()
    siren = line(page, 1).get_by_label("Third party SIREN", exact=True)
    siren.fill("552100555")
    siren.press("Tab")
    expect(
        line(page, 1).get_by_role("alert").filter(has_text="A SIREN is 9 digits")
    ).to_be_visible()


def test_the_vat_helper_books_a_purchase_that_reaches_the_sandbox(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    page.get_by_text("Book an invoice in one step").click()
    page.get_by_label("Net amount").fill("1 000,00")
    page.get_by_label("VAT rate").select_option(label="5.5 %")
    page.get_by_label("Booked on").fill("2026-03-09")
    expect(page.get_by_label("Expense or revenue")).to_have_value("607")
    page.get_by_label("Expense or revenue").fill("6063")
    page.get_by_role("button", name="Generate the lines").click()

    expect(page.locator("fieldset.entry-line")).to_have_count(3)
    expect(line(page, 1).get_by_label("Date", exact=True)).to_be_focused()
    expect(line(page, 2).get_by_label("Debit", exact=True)).to_have_value("55,00")
    expect(line(page, 3).get_by_label("Credit", exact=True)).to_have_value(f"1{NNBSP}055,00")
    expect(page.locator("#balance-state")).to_have_text("✓ Balanced")
    line(page, 1).get_by_label("Label", exact=True).fill("Farine bio")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="facture.pdf")).to_be_visible()
    [document] = live_portal.sandbox.documents(deposit_page)
    lines = document.entries["data"]["lines"]
    assert [(entry["journal"], entry["account"], entry["reference"]) for entry in lines] == [
        ("ACH", "6063", "FA-77"),
        ("ACH", "44566", "FA-77"),
        ("ACH", "401", "FA-77"),
    ]
    assert [entry["debit"]["amount"] for entry in lines] == [1000, 55, 0]
    assert [entry["credit"]["amount"] for entry in lines] == [0, 0, 1055]
    assert lines[0]["label"] == "Farine bio" and "label" not in lines[1]
    assert lines[2]["credit"] == {
        "amount": 1055,
        "currency": "EUR",
        "currencyAmount": 1055,
        "currencyRate": 1,
    }
    expect(page.locator("#total-debit")).to_have_text("1,055.00")


def test_rows_pasted_from_a_spreadsheet_become_lines_with_their_errors(
    page: Page, deposit_page: str
) -> None:
    page.get_by_text("Paste rows from a spreadsheet").click()
    page.get_by_label("Rows copied from a spreadsheet").fill(
        "Date\tJournal\tCompte\tDébit\tCrédit\tRéférence\tLibellé\n"
        "09/03/2026\tACH\t607\t100,00\t\tFA-77\tFarine\n"
        "09/03/2026\tACH\t\t\t100,00\tFA-77\t\n"
    )
    page.get_by_role("button", name="Add pasted rows").click()
    expect(page.locator("fieldset.entry-line")).to_have_count(2)
    expect(page.get_by_text("2 lines added.")).to_be_visible()
    expect(line(page, 1).get_by_label("Label", exact=True)).to_have_value("Farine")
    expect(line(page, 1).get_by_label("Date", exact=True)).to_have_value("2026-03-09")
    expect(line(page, 2).get_by_role("alert").filter(has_text="Enter an account")).to_be_visible()
    expect(page.get_by_label("Rows copied from a spreadsheet")).to_have_value("")
    expect(page.locator("#balance-state")).to_have_text("✓ Balanced")


def test_a_counterparty_chosen_from_suggestions_fills_the_fields_and_is_sent(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    with live_portal.app.app_context():
        organization = db.session.scalars(db.select(Organization)).one()
        db.session.add(
            Counterparty(
                organization_id=organization.id,
                name="Moulins Dupont",
                siren="552100554",
                legal_form="SAS",
                naf="10.61A",
                city="Reims",
                postal_code="51100",
                contact_email="compta@moulins.test",
            )
        )
        db.session.commit()

    page.get_by_label("Company name").press_sequentially("dupo")
    suggestion = page.get_by_role("button", name="Moulins Dupont — 552100554 — Reims")
    expect(suggestion).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_label("Company name")).to_be_focused()
    page.keyboard.press("Tab")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Company name")).to_have_value("Moulins Dupont")
    expect(page.get_by_label("SIREN", exact=True)).to_have_value("552100554")
    expect(page.get_by_label("City")).to_have_value("Reims")
    expect(page.get_by_label("Company name")).to_be_focused()

    page.get_by_text("Preview what will be sent").click()
    expect(page.locator("#preview-organization")).to_contain_text('"legalForm": "SAS"')

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="facture.pdf")).to_be_visible()
    [document] = live_portal.sandbox.documents(deposit_page)
    assert document.organization == {
        "name": "Moulins Dupont",
        "siren": "552100554",
        "legalForm": "SAS",
        "naf": "10.61A",
        "contactEmail": "compta@moulins.test",
        "address": {"postalCode": "51100", "city": "Reims"},
    }
    expect(page.locator("#counterparty-facts")).to_contain_text("Moulins Dupont")


def test_a_suggestion_keeps_the_focus_when_a_late_answer_refreshes_the_list(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    with live_portal.app.app_context():
        organization = db.session.scalars(db.select(Organization)).one()
        db.session.add(Counterparty(organization_id=organization.id, name="Moulins Dupont"))
        db.session.commit()
    name = page.get_by_label("Company name")
    name.press_sequentially("moul")
    suggestion = page.get_by_role("button", name="Moulins Dupont")
    expect(suggestion).to_be_visible()
    name.press("ArrowDown")
    expect(suggestion).to_be_focused()

    # What a slow typist's earlier keystroke brings back after the list has been reached.
    page.evaluate(
        """url => new Promise(done => {
               document.body.addEventListener("htmx:afterSettle", done, {once: true});
               htmx.ajax("GET", url, {source: "#counterparty-name",
                                      target: "#counterparty-suggestions", swap: "innerHTML"});
           })""",
        name.get_attribute("data-hx-get"),
    )
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(name).to_have_value("Moulins Dupont")


def test_enter_in_the_name_field_picks_the_suggestion_and_never_sends(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    with live_portal.app.app_context():
        organization = db.session.scalars(db.select(Organization)).one()
        db.session.add(Counterparty(organization_id=organization.id, name="Moulins Dupont"))
        db.session.commit()
    page.get_by_label("Company name").press_sequentially("moul")
    expect(page.get_by_role("button", name="Moulins Dupont")).to_be_visible()
    page.get_by_label("Company name").press("Enter")
    expect(page.get_by_label("Company name")).to_have_value("Moulins Dupont")
    expect(page.get_by_role("button", name="Send").last).to_be_enabled()
    assert "/deposits/new" in page.url
    assert live_portal.sandbox.documents(deposit_page) == []


def test_send_works_again_on_a_page_the_browser_restores(
    page: Page, live_portal: LivePortal, deposit_page: str
) -> None:
    send = page.locator("button.send")
    send.evaluate("button => { button.disabled = true; button.setAttribute('aria-busy', 'true'); }")
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(send).to_be_enabled()
    assert send.get_attribute("aria-busy") is None
