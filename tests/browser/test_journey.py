"""The main journey, in a real browser, against the portal and its embedded sandbox."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LivePortal, open_form_sections
from tests.support import invoices


def register(page: Page, email: str = "anne@boulangerie.test") -> None:
    page.goto("/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()


def create_integration_in_console(page: Page, name: str) -> tuple[str, str]:
    page.goto("/sandbox/")
    page.get_by_label("Organization name").fill(name)
    page.get_by_role("button", name="Create integration").click()
    integration_id = page.locator("#created-integration-id").inner_text()
    secret = page.locator("#created-integration-secret").inner_text()
    return integration_id.strip(), secret.strip()


def connect(page: Page, name: str, integration_id: str, secret: str) -> None:
    page.goto("/organizations/")
    page.get_by_role("link", name="Connect an organization").click()
    page.get_by_label("Organization name").fill(name)
    page.get_by_label("Integration ID").fill(integration_id)
    page.get_by_label("Integration secret").fill(secret)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_text(f"{name} is connected")).to_be_visible()


def fill_line(page: Page, number: int, **values: str) -> None:
    line = page.get_by_role("group", name=f"Line {number}")
    for label, value in values.items():
        line.get_by_label(label.capitalize(), exact=True).fill(value)


def test_register_connect_deposit_with_two_lines_and_see_it_accepted(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id, secret = create_integration_in_console(page, "Boulangerie Martin")
    register(page)
    connect(page, "Boulangerie Martin", integration_id, secret)

    page.get_by_role("link", name="Deposit an invoice").click()
    open_form_sections(page)
    page.get_by_label("Invoice type").select_option(label="Purchase")
    invoice = tmp_path / "facture-mars.pdf"
    invoice.write_bytes(invoices.pdf())
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    expect(page.get_by_label("User email")).to_have_value("anne@boulangerie.test")
    page.get_by_label("Comment").fill("Électricité de mars")
    page.get_by_label("External reference").fill("FA-2026-042")

    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_role("group", name="Line 1").get_by_label("Date")).to_be_focused()
    page.get_by_role("button", name="Add line").click()
    fill_line(
        page,
        1,
        date="2026-03-09",
        journal="ACH",
        account="60610000",
        debit="1 234,56",
        reference="FA-2026-042",
        label="Électricité",
    )
    fill_line(
        page,
        2,
        date="2026-03-09",
        journal="ACH",
        account="40100000",
        credit="1234.56",
        reference="FA-2026-042",
    )
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="facture-mars.pdf")).to_be_visible()
    expect(page.locator("#status-heading")).to_contain_text(re.compile("Sent|Accepted"))
    # The simulated accounting tool decides after a second; the page updates by itself.
    expect(page.locator("#status-heading")).to_contain_text("Accepted", timeout=15_000)
    expect(page.locator("#announcer")).to_contain_text("facture-mars.pdf: Accepted")

    [document] = live_portal.sandbox.documents(integration_id)
    assert document.external_reference == "FA-2026-042"
    assert document.comment == "Électricité de mars"
    lines = document.entries["data"]["lines"]
    assert [line["debit"]["amount"] for line in lines] == [1234.56, 0]
    assert [line["credit"]["amount"] for line in lines] == [0, 1234.56]

    page.get_by_role("link", name="Boulangerie Martin").click()
    row = page.get_by_role("row", name=re.compile("facture-mars.pdf"))
    expect(row).to_contain_text("FA-2026-042")
    expect(row).to_contain_text(document.document_id)
    expect(row).to_contain_text("Accepted")


def test_a_refusal_shows_its_reason_and_the_history_updates_live(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id, secret = create_integration_in_console(page, "Garage Dupont")
    register(page, "paul@garage.test")
    connect(page, "Garage Dupont", integration_id, secret)

    page.get_by_role("link", name="Deposit an invoice").click()
    open_form_sections(page)
    invoice = tmp_path / "ticket.png"
    invoice.write_bytes(invoices.png())
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    page.get_by_label("Comment").fill("refuse: the VAT number is missing")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="ticket.png")).to_be_visible()

    page.get_by_role("link", name="Garage Dupont").click()
    row = page.get_by_role("row", name=re.compile("ticket.png"))
    expect(row).to_contain_text("Refused", timeout=15_000)
    row.get_by_role("link", name="ticket.png").click()
    expect(page.locator("#status-panel .alert-error")).to_have_text(
        "Reason for refusal: the VAT number is missing"
    )


def test_removing_a_line_and_a_wrong_file_type_in_the_browser(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id, secret = create_integration_in_console(page, "Atelier")
    register(page, "lea@atelier.test")
    connect(page, "Atelier", integration_id, secret)
    page.get_by_role("link", name="Deposit an invoice").click()
    open_form_sections(page)

    page.get_by_role("button", name="Add line").click()
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("fieldset.entry-line")).to_have_count(2)
    page.get_by_role("group", name="Line 1").get_by_role("button", name="Remove").click()
    expect(page.locator("fieldset.entry-line")).to_have_count(1)

    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(invoices.png())
    page.get_by_label("Invoice file").set_input_files(str(fake))
    # The line left is numbered again: its legend stays true for screen readers.
    fill_line(
        page, 1, date="2026-03-09", journal="ACH", account="60610000", debit="10", reference="R1"
    )
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("This file is a PNG image, but its name ends in “.pdf”")
    ).to_be_visible()
    assert live_portal.sandbox.documents(integration_id) == []
