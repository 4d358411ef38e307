"""The journey in French with the contract's French labels, and the switch remembered by the account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LivePortal, browser_tab, open_form_sections
from tests.support import invoices


@pytest.fixture
def french_page(browser: Any, live_portal: LivePortal) -> Iterator[Page]:
    with browser_tab(browser, live_portal, "fr-FR") as tab:
        yield tab


def fill_line(page: Page, index: int, **values: str) -> None:
    line = page.locator("fieldset.entry-line").nth(index)
    for label, value in values.items():
        line.get_by_label(label, exact=True).fill(value)


def test_the_journey_in_french(french_page: Page, live_portal: LivePortal, tmp_path: Path) -> None:
    page = french_page
    integration_id, secret = live_portal.sandbox.create_integration("Boulangerie Martin")
    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_label("Adresse e-mail").fill("anne@boulangerie.test")
    page.get_by_label("Mot de passe").fill("un mot de passe assez long")
    page.get_by_role("button", name="Créer un compte").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.goto("/organizations/new")
    page.get_by_label("Nom de l'organisation").fill("Boulangerie Martin")
    page.get_by_label("Identifiant d'intégration").fill(integration_id)
    page.get_by_label("Secret d'intégration").fill(secret)
    page.get_by_role("button", name="Connecter", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Boulangerie Martin")

    page.goto("/organizations/1/deposits/new")
    open_form_sections(page)
    page.get_by_label("Type de facture").select_option(label="Achat")
    invoice = tmp_path / "facture-mars.pdf"
    invoice.write_bytes(invoices.pdf())
    page.get_by_label("Fichier de la facture").set_input_files(str(invoice))
    expect(page.get_by_label("E-mail de l'utilisateur")).to_have_value("anne@boulangerie.test")
    page.get_by_label("Commentaire").fill("Électricité de mars")
    page.get_by_label("Référence externe").fill("FA-2026-042")
    page.get_by_role("button", name="Ajouter une ligne").click()
    page.get_by_role("button", name="Ajouter une ligne").click()
    expect(page.locator("fieldset.entry-line")).to_have_count(2)
    common = {"Date": "2026-03-09", "Journal": "ACH", "Référence": "FA-2026-042"}
    fill_line(page, 0, **common, Compte="60610000", Débit="1 234,56", Libellé="Électricité")
    fill_line(page, 1, **common, Compte="40100000", Crédit="1234,56")
    expect(page.locator("#balance-state")).not_to_have_class(re.compile("balance-off"))
    page.get_by_role("button", name="Envoyer", exact=True).click()

    expect(page.get_by_role("heading", name="facture-mars.pdf")).to_be_visible()
    expect(page.locator("#status-heading")).to_contain_text("Acceptée", timeout=15_000)
    # Times as France writes them, amounts with a decimal comma.
    expect(page.locator("main time").first).to_have_text(
        re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
    )
    expect(page.locator("#total-debit")).to_have_text(re.compile(r"^1\s234,56$"))

    [document] = live_portal.sandbox.documents(integration_id)
    lines = document.entries["data"]["lines"]
    assert [line["debit"]["amount"] for line in lines] == [1234.56, 0]
    assert [line["credit"]["amount"] for line in lines] == [0, 1234.56]

    page.goto("/organizations/1/deposits")
    row = page.get_by_role("row", name=re.compile("facture-mars.pdf"))
    expect(row).to_contain_text("FA-2026-042")
    expect(row).to_contain_text("Acceptée")


def test_the_switch_is_kept_by_the_account_across_sign_ins(
    browser: Any, page: Page, live_portal: LivePortal
) -> None:
    page.goto("/register")
    page.get_by_label("Email").fill("lea@atelier.test")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile("/organizations/$"))  # back on the same page
    page.get_by_role("button", name="Se déconnecter").click()

    # Another English browser, no cookie: the account's choice is what speaks French.
    other = browser.new_context(base_url=live_portal.url, locale="en-US")
    try:
        tab = other.new_page()
        tab.goto("/login")
        expect(tab.locator("html")).to_have_attribute("lang", "en")
        tab.get_by_label("Email").fill("lea@atelier.test")
        tab.get_by_label("Password").fill("a long enough password")
        tab.get_by_role("button", name="Log in").click()
        expect(tab.locator("html")).to_have_attribute("lang", "fr")
        expect(tab.get_by_role("button", name="Se déconnecter")).to_be_visible()
        tab.get_by_role("button", name="English").click()
        expect(tab.get_by_role("button", name="Log out")).to_be_visible()
    finally:
        other.close()
