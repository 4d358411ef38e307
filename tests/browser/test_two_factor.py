"""Two-factor sign-in in a real browser: enrol by reading the key off the page, sign in with the
app's code, then with a recovery code (once); the code step and the recovery codes page hold at
both sizes, in both languages, without an axe violation."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests import factories
from tests.browser.conftest import LivePortal, browser_tab
from tests.browser.test_accessibility import violations
from tests.browser.test_screens import _OVERFLOWING, _SMALL_TARGETS, SIZES

EMAIL = "sophie.lefebvre@boulangerie-lefebvre-et-fils.fr"


@pytest.fixture
def member(live_portal: LivePortal) -> str:
    with live_portal.app.app_context():
        factories.user(EMAIL)
        db.session.remove()
    return EMAIL


def sign_in_with_password(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main form input[type=submit]").click()


def log_out(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})  # the menu unfolded
    page.locator("form[action='/logout'] button").first.click()
    page.wait_for_url("**/login")


def next_code(secret: str) -> str:
    # The code of the coming 30 seconds: accepted (one step ahead) and later than any step
    # used before, so the test never waits for the phone's next code.
    return pyotp.TOTP(secret).at(time.time() + 30)


def enrol(page: Page) -> tuple[str, list[str]]:
    page.goto("/settings/")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(
        page.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    page.get_by_text("Cannot scan? Type the key instead").click()
    key = page.locator("code.totp-secret")
    expect(key).to_be_visible()
    secret = key.inner_text().replace(" ", "")
    assert len(secret) == 32
    page.get_by_label("Code shown by the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    return secret, codes


def look(page: Page, size: str) -> list[str]:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    problems = [f"{size}: {found}" for found in violations(page)]
    measured = page.evaluate(_OVERFLOWING)
    if measured["scrollWidth"] > width:
        problems.append(f"{size}: {measured['scrollWidth']} px wide, {measured['offenders']}")
    if size == "phone" and (small := page.evaluate(_SMALL_TARGETS)):
        problems.append(f"{size}: targets under 44 px: {small}")
    return problems


def test_enrol_then_sign_in_with_the_apps_code_and_with_a_recovery_code_once(
    page: Page, live_portal: LivePortal, member: str
) -> None:
    sign_in_with_password(page, member)
    page.wait_for_url(lambda url: "/login" not in url)
    secret, codes = enrol(page)
    page.get_by_role("link", name="I have kept them").click()
    expect(page.get_by_text("10 recovery codes left", exact=False)).to_be_visible()
    assert secret not in page.content()
    log_out(page)

    sign_in_with_password(page, member)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("This code is not right, or was already used.")).to_be_visible()
    page.get_by_label("Code").fill(next_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    log_out(page)

    sign_in_with_password(page, member)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/settings/two-factor")
    expect(page.get_by_text("9 recovery codes left", exact=False)).to_be_visible()
    log_out(page)

    sign_in_with_password(page, member)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("This code is not right, or was already used.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_the_code_step_and_the_recovery_codes_fit_both_screens(
    browser: Any, live_portal: LivePortal, member: str, locale: str
) -> None:
    with browser_tab(browser, live_portal, locale) as tab:
        sign_in_with_password(tab, member)
        tab.wait_for_url(lambda url: "/login" not in url)
        tab.goto("/settings/two-factor")
        problems = [f"enrolment {found}" for size in SIZES for found in look(tab, size)]
        secret = tab.locator("code.totp-secret").get_attribute("data-secret")
        assert secret
        tab.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
        tab.locator("main form input[type=submit]").click()
        tab.locator("ul.recovery-codes").wait_for()
        problems += [f"recovery codes {found}" for size in SIZES for found in look(tab, size)]
        tab.goto("/settings/two-factor")
        problems += [f"status {found}" for size in SIZES for found in look(tab, size)]
        log_out(tab)
        sign_in_with_password(tab, member)
        tab.wait_for_url("**/login/code")
        tab.locator("input[name=code]").fill("000000")
        tab.locator("main form input[type=submit]").click()
        tab.locator(".error").wait_for()  # the page with its error, the longest it gets
        problems += [f"code step {found}" for size in SIZES for found in look(tab, size)]
    assert not problems, "\n".join(problems)
