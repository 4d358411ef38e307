"""Staff review and the admin console, in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from portal.models import DepositStatus, Role
from tests import factories
from tests.browser.conftest import LivePortal
from tests.support import invoices


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()


def test_staff_filters_the_review_and_opens_a_deposit(page: Page, live_portal: LivePortal) -> None:
    with live_portal.app.app_context():
        staff = factories.user("claire@cabinet.test", role=Role.STAFF)
        organization = factories.organization(name="Boulangerie Martin")
        factories.assign(staff, organization)
        factories.deposit(organization, file_name="farine.pdf", status=DepositStatus.ACCEPTED)
        factories.deposit(
            organization,
            file_name="electricite.pdf",
            status=DepositStatus.REFUSED,
            rejection_reason="wrong VAT number",
            counterparty={"name": "EDF"},
            content=invoices.pdf(pages=2),
        )
    log_in(page, "claire@cabinet.test")
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_role("link", name="farine.pdf")).to_be_visible()
    page.get_by_label("Status").select_option(label="Refused")
    expect(page.get_by_role("link", name="farine.pdf")).to_have_count(0)
    page.get_by_label("Search").fill("edf")
    expect(page.get_by_role("link", name="electricite.pdf")).to_be_visible()
    page.get_by_role("link", name="electricite.pdf").click()
    expect(page.get_by_role("heading", name="electricite.pdf")).to_be_visible()
    expect(page.get_by_text("wrong VAT number")).to_be_visible()
    frame = page.locator("iframe.invoice-frame")
    expect(frame).to_have_attribute("sandbox", "allow-same-origin")
    expect(page.get_by_role("link", name="Download the original")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/invoice/view")) as answer:
        page.reload()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.header_value("content-security-policy") or ""
    assert "sandbox" in policy and "default-src 'none'" in policy
    # Chromium shows no PDF in a sandboxed frame; the pages are images drawn by the server.
    first_page = page.frame_locator("iframe.invoice-frame").get_by_role("img", name="Page 1 of 2")
    expect(first_page).to_be_visible()
    first_page.evaluate("image => image.decode()")
    assert first_page.evaluate("image => image.naturalWidth") > 0
    assert page.frame_locator("iframe.invoice-frame").locator("img").count() == 2


def test_an_admin_assigns_an_organization_to_staff(page: Page, live_portal: LivePortal) -> None:
    with live_portal.app.app_context():
        factories.user("root@cabinet.test", role=Role.ADMIN)
        factories.user("paul@cabinet.test", role=Role.STAFF)
        factories.organization(name="Garage Dupont")
    log_in(page, "root@cabinet.test")
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Staff assignments").first.click()
    page.get_by_label("Staff member").select_option(label="paul@cabinet.test")
    page.get_by_label("Organization", exact=True).select_option(label="Garage Dupont")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("paul@cabinet.test now reviews Garage Dupont.")).to_be_visible()
    expect(
        page.get_by_role("button", name="Remove paul@cabinet.test from Garage Dupont")
    ).to_be_visible()
    page.get_by_role("link", name="Audit log").click()
    # The action in words, never its code.
    expect(page.get_by_role("cell", name="Staff assigned to an organization")).to_be_visible()
    expect(page.get_by_role("cell", name="staff_assigned")).to_have_count(0)
