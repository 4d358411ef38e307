"""E-mail as a newcomer meets it in the demo: the password reset in a real browser (the link
read in the sandbox console's Mailbox, used once, refused twice and once expired), and the
tour's refusal e-mail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import update

from portal.extensions import db
from portal.models import PasswordReset, utcnow
from tests.browser.conftest import LivePortal, open_form_sections
from tests.browser.test_journey import connect, create_integration_in_console, register
from tests.support import invoices

EMAIL = "claire@atelier.test"
NEW_PASSWORD = "a brand new passphrase"


def open_mail(page: Page, subject: str) -> None:
    """Open the Mailbox until the e-mail has arrived (the sender polls every few seconds)."""
    page.goto("/sandbox/mailbox/")
    link = page.get_by_role("link", name=subject)
    for _ in range(20):
        if link.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    link.first.click()
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()


def ask_for_a_link(page: Page) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Send link").click()
    expect(page.get_by_text(f"If an account uses {EMAIL}, a link")).to_be_visible()


def test_a_forgotten_password_is_reset_by_the_emailed_link_once(
    page: Page, live_portal: LivePortal
) -> None:
    register(page, EMAIL)
    page.get_by_role("button", name="Log out").click()

    ask_for_a_link(page)
    open_mail(page, "Reset your password")
    expect(
        page.frame_locator("iframe.mail-html").get_by_role("link", name="Choose a new password")
    ).to_be_visible()
    link = page.locator("pre.mail-text a[href*='/reset-password/']").first
    address = link.get_attribute("href")
    link.click()

    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()

    page.goto(address)  # the same link, a second time
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    expect(page.get_by_label("New password")).to_have_count(0)


def test_an_expired_link_asks_for_a_new_one(page: Page, live_portal: LivePortal) -> None:
    register(page, EMAIL)
    page.get_by_role("button", name="Log out").click()
    ask_for_a_link(page)
    open_mail(page, "Reset your password")
    address = page.locator("pre.mail-text a[href*='/reset-password/']").first.get_attribute("href")
    with live_portal.app.app_context():  # an hour and a minute later
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()
    page.goto(address)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("button", name="Send link")).to_be_visible()


def test_the_tours_refusal_arrives_in_the_mailbox_with_a_working_link(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id, secret = create_integration_in_console(page, "Atelier Claire")
    register(page, EMAIL)
    connect(page, "Atelier Claire", integration_id, secret)
    page.get_by_role("link", name="Deposit an invoice").click()
    open_form_sections(page)
    invoice = tmp_path / "facture-avril.pdf"
    invoice.write_bytes(invoices.pdf())
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    page.get_by_label("Comment").fill("refuse: wrong VAT number")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Refused").first).to_be_visible(timeout=15_000)

    open_mail(page, "Invoice refused: facture-avril.pdf")
    expect(page.locator("pre.mail-text")).to_contain_text("wrong VAT number")
    page.locator("pre.mail-text a[href*='/deposits/']").first.click()
    expect(page.get_by_text("wrong VAT number").first).to_be_visible()
    expect(page.get_by_role("link", name="Correct and send again")).to_be_visible()
