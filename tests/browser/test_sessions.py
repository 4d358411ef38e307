"""A session cookie copied before Log out signs nobody in afterwards, in a real browser."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import LivePortal
from tests.browser.test_journey import register


def test_a_copied_session_cookie_stops_working_at_log_out(
    page: Page, browser: Any, live_portal: LivePortal
) -> None:
    register(page, "claire@atelier.test")
    cookies = page.context.cookies()
    elsewhere = browser.new_context(base_url=live_portal.url, locale="en-GB")
    try:
        elsewhere.add_cookies(cookies)
        other = elsewhere.new_page()
        other.goto("/organizations/")
        expect(other.get_by_role("heading", name="Organizations")).to_be_visible()

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You are logged out.")).to_be_visible()

        other.goto("/organizations/")
        expect(other).to_have_url(f"{live_portal.url}/login?next=/organizations/")
        expect(other.get_by_role("button", name="Log in")).to_be_visible()
    finally:
        elsewhere.close()
