"""A Factur-X invoice dropped on the deposit page fills the form, marked as read from it, and
what reaches OneConnect is the XML's own balanced booking."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.conftest import LivePortal
from tests.browser.test_accessibility import violations
from tests.browser.test_uploads import deposit_page, wait_for_documents
from tests.support import facturx_samples as samples


def test_a_dropped_facturx_invoice_fills_a_balanced_booking_that_reaches_oneconnect(
    page: Page, live_portal: LivePortal
) -> None:
    facts = samples.sample("en16931", bases={"20": "1041.67", "5.5": "250.00"})
    integration_id = deposit_page(page)
    page.get_by_label("Invoice file").set_input_files(
        {
            "name": "facture-fournil.pdf",
            "mimeType": "application/pdf",
            "buffer": samples.facturx_pdf(facts),
        }
    )
    expect(page.locator("#invoice-reading")).to_contain_text("Factur-X profile EN 16931.")
    # The sections it filled open by themselves, each value marked.
    expect(page.get_by_label("Company name")).to_have_value("Fournil Équipement SAS")
    expect(page.get_by_label("SIREN", exact=True)).to_have_value("732829320")
    expect(page.get_by_label("External reference")).to_have_value("FA-2026-0042")
    expect(page.locator("#entry-lines fieldset.entry-line")).to_have_count(5)
    expect(page.locator("#entry-lines .read-mark")).to_have_count(5)
    expect(page.locator("#balance-state")).to_have_text("✓ Balanced")
    expect(page.locator("#total-debit")).to_have_text(f"{facts.total_gross:,.2f}")
    assert violations(page) == []
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="facture-fournil.pdf")).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 1)
    [document] = live_portal.sandbox.documents(integration_id)
    lines = document.entries["data"]["lines"]
    assert [line["account"] for line in lines] == ["607", "607", "44566", "44566", "401"]
    debits = [Decimal(str(line["debit"]["amount"])) for line in lines]
    credits = [Decimal(str(line["credit"]["amount"])) for line in lines]
    assert sum(debits) == sum(credits) == facts.total_gross
    assert sorted(debits[2:4]) == sorted(tax for _, _, tax in facts.taxes)
    assert document.organization["name"] == "Fournil Équipement SAS"
    assert document.organization["siren"] == "732829320"
    assert document.external_reference == "FA-2026-0042"
