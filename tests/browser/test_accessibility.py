"""Every main page passes axe-core's WCAG 2 A/AA rules in the real browser.

axe-core comes from the npm registry (a dev dependency, installed by make into node_modules/)
and is injected into each page by the test; the portal never serves it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from portal.config import PROJECT_ROOT
from portal.extensions import db
from portal.models import Role
from tests import factories
from tests.browser.conftest import LivePortal, open_form_sections
from tests.support import invoices

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: Page) -> list[str]:
    # Evaluated through the DevTools protocol: the portal's CSP rightly refuses injected tags.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})).violations"
    )
    return [
        f"{v['id']}: {v['help']} — {json.dumps([n['target'] for n in v['nodes']][:3])}"
        for v in result
    ]


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def people(live_portal: LivePortal) -> dict[str, object]:
    with live_portal.app.app_context():
        integration_id, secret = live_portal.sandbox.create_integration("Accessible SARL")
        member = factories.user("member@a11y.test")
        organization = factories.organization(
            member, integration_id=integration_id, secret=secret, name="Accessible SARL"
        )
        deposit = factories.deposit(
            organization, content=invoices.pdf(), entries={"data": {"lines": []}}
        )
        staff = factories.user("staff@a11y.test", role=Role.STAFF)
        factories.assign(staff, organization)
        factories.user("admin@a11y.test", role=Role.ADMIN)
        ids = {"organization": organization.id, "deposit": deposit.id}
        db.session.remove()
    return ids


def test_public_pages_have_no_violations(page: Page, live_portal: LivePortal) -> None:
    for url in ("/login", "/register"):
        page.goto(url)
        assert violations(page) == [], url


def test_member_pages_have_no_violations(page: Page, people: dict[str, int]) -> None:
    sign_in(page, "member@a11y.test")
    organization, deposit = people["organization"], people["deposit"]
    for url in (
        "/organizations/",
        "/organizations/new",
        f"/organizations/{organization}/deposits",
        f"/deposits/{deposit}",
    ):
        page.goto(url)
        assert violations(page) == [], url
    page.goto(f"/organizations/{organization}/deposits/new")
    open_form_sections(page)
    page.get_by_role("button", name="Add line").click()
    page.get_by_role("button", name="Add line").click()
    page.get_by_role("group", name="Line 2").get_by_label("Debit", exact=True).fill("12,50")
    page.get_by_role("group", name="Line 1").get_by_label("Debit", exact=True).focus()
    page.wait_for_timeout(500)
    assert violations(page) == [], "deposit form with two lines"
    page.get_by_role("button", name="Send").last.click()  # back with errors shown on fields
    assert violations(page) == [], "deposit form with errors"


def test_staff_and_admin_pages_have_no_violations(page: Page, people: dict[str, int]) -> None:
    sign_in(page, "staff@a11y.test")
    for url in ("/review/", f"/review/deposits/{people['deposit']}", "/review/dashboard"):
        page.goto(url)
        assert violations(page) == [], url
    page.get_by_role("button", name="Log out").click()
    sign_in(page, "admin@a11y.test")
    for url in (
        "/admin/",
        "/admin/users",
        "/admin/organizations",
        "/admin/staff",
        "/admin/webhooks",
        "/admin/audit",
    ):
        page.goto(url)
        assert violations(page) == [], url


def test_axe_is_installed_from_npm() -> None:
    assert Path(AXE).exists(), "run make: axe-core comes from the npm registry"
