"""Every page each role can reach, at a phone's size and a laptop's, in French and in English:
no sideways scrolling, no axe-core violation, and on the phone controls big enough for a thumb.

The pages come from the URL map, as the access matrix's routes do: a new GET route fails
`test_every_get_route_is_a_page_or_said_not_to_be` until it is listed here, so no screen is
forgotten. With SCREENSHOTS_DIR set (`make screenshots`), each visit also writes a full-page
screenshot there, for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from playwright.sync_api import Page

from portal.extensions import db
from tests import factories
from tests.browser.conftest import LivePortal, browser_tab, open_form_sections
from tests.browser.test_accessibility import violations
from tests.support import showcase

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
ROLES = {
    "anonymous": None,
    "member": showcase.MEMBER,
    "staff": showcase.STAFF,
    "admin": showcase.ADMIN,
}

# Every page, and who looks at it. Staff and admins reach members' read-only pages too.
PAGES: dict[str, tuple[str, ...]] = {
    "auth.login": ("anonymous",),
    "auth.register": ("anonymous",),
    "auth.forgot_password": ("anonymous",),
    "auth.reset_password": ("anonymous",),
    "settings.index": ("member", "staff", "admin"),
    "settings.two_factor": ("member", "staff", "admin"),
    "settings.unsubscribe": ("anonymous",),
    "organizations.index": ("member", "staff", "admin"),
    "organizations.new": ("member",),
    "organizations.members": ("member", "staff"),
    "organizations.confirm_disconnect": ("member",),
    "deposits.index": ("member", "staff"),
    "deposits.new": ("member",),
    "deposits.detail": ("member", "staff"),
    "deposits.correct": ("member",),
    "review.index": ("staff", "admin"),
    "review.dashboard": ("staff", "admin"),
    "review.detail": ("staff", "admin"),
    "admin.index": ("admin",),
    "admin.users": ("admin",),
    "admin.user": ("admin",),
    "admin.confirm_deactivate": ("admin",),
    "admin.organizations_index": ("admin",),
    "admin.organization": ("admin",),
    "admin.confirm_revoke": ("admin",),
    "admin.staff": ("admin",),
    "admin.webhooks": ("admin",),
    "admin.webhook": ("admin",),
    "admin.audit_log": ("admin",),
    "admin.mail": ("admin",),
}

# GET routes that are not pages of their own, and why.
NOT_PAGES = {
    "main.home": "redirects to the user's first page",
    "main.healthz": "a JSON answer for load balancers",
    "readiness.readyz": "a JSON answer for load balancers",
    "observability.metrics": "Prometheus's text, behind a token",
    "main.favicon": "the icon",
    # Reached only between a right password and its code: tests/browser/test_two_factor.py
    # looks at it (both sizes, both languages, axe), and at the recovery codes page.
    "auth.second_step": "the code step of signing in, checked by test_two_factor.py",
    "deposits.check_field": "an htmx fragment of the deposit form",
    "deposits.counterparty_suggestions": "an htmx fragment of the deposit form",
    "deposits.counterparty_fill": "an htmx fragment of the deposit form",
    "deposits.row": "an htmx fragment of the history",
    "deposits.download": "the original file",
    "deposits.invoice": "the invoice inside the detail pages' frame",
    "deposits.invoice_pages": "the invoice's pages inside the detail pages' frame",
    "deposits.invoice_page": "one page image",
    "deposits.receipt": "a PDF",
    "review.export": "a CSV file",
}

# Pages that are not routes of their own: the error page, and the demo's sandbox console.
EXTRA_PAGES = {"errors.not_found": "/cette-page-n-existe-pas"}


def test_every_get_route_is_a_page_or_said_not_to_be(app: Flask) -> None:
    endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and "GET" in (rule.methods or set())
    }
    assert endpoints - PAGES.keys() - NOT_PAGES.keys() == set(), "pages the screens test misses"
    assert (PAGES.keys() | NOT_PAGES.keys()) - endpoints == set(), "routes that no longer exist"


def _arguments(ids: showcase.Showcase) -> dict[str, dict[str, Any]]:
    common = {
        "organization_id": ids.organization_id,
        "deposit_id": ids.deposit_id,
        "user_id": ids.member_id,
        "event_id": ids.event_id,
    }
    overrides = {
        "deposits.correct": {"deposit_id": ids.refused_id},
        "auth.reset_password": {"token": ids.reset_token},
        "settings.unsubscribe": {"token": ids.unsubscribe_token},
    }
    return {"*": common, **overrides}


def page_urls(app: Flask, ids: showcase.Showcase, role: str) -> dict[str, str]:
    arguments = _arguments(ids)
    urls: dict[str, str] = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if role not in PAGES.get(rule.endpoint, ()):
                continue
            values = arguments.get(rule.endpoint, arguments["*"])
            urls[rule.endpoint] = url_for(
                rule.endpoint, **{name: values[name] for name in rule.arguments}
            )
    urls.update(EXTRA_PAGES)
    if role == "anonymous":
        urls["sandbox.console"] = app.config["SANDBOX_CONSOLE_PATH"]
        # The demo's Mailbox, and the showcase's refusal e-mail in it (text and HTML).
        urls["sandbox.mailbox"] = f"{app.config['SANDBOX_CONSOLE_PATH']}mailbox/"
        urls["sandbox.mail"] = f"{app.config['SANDBOX_CONSOLE_PATH']}mailbox/{ids.mail_number}"
    return urls


@pytest.fixture
def screens(live_portal: LivePortal) -> showcase.Showcase:
    with live_portal.app.app_context():
        ids = showcase.populate(live_portal.sandbox)
        db.session.remove()
    return ids


@pytest.fixture
def localized_page(browser: Any, live_portal: LivePortal, language: str) -> Iterator[Page]:
    with browser_tab(browser, live_portal, LOCALES[language]) as tab:
        yield tab


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main form input[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


# The elements wider than the window that no scrolling box of their own holds.
_OVERFLOWING = """() => {
  const limit = window.innerWidth;
  const scrolls = (element) => {
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow === 'auto' || overflow === 'scroll' || overflow === 'hidden') return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')].filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > limit + 1 && !scrolls(element);
  });
  const leaves = wide.filter((element) => !wide.some((other) => other !== element && element.contains(other)));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    offenders: leaves.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`),
  };
}"""

# Controls a thumb must hit: 44 CSS px high at least (WCAG 2.5.5), on the phone only.
_SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, select, textarea, summary, a.button-link, header nav a, .subnav a, .pager a, '
    + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
  .filter((element) => element.checkVisibility() && !element.closest('.visually-hidden'))
  .filter((element) => element.getBoundingClientRect().height < 43.5)
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${(e.innerText || e.value || '').trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)} px`)"""


def _look_at(page: Page, url: str, size: str, shots: Path | None, name: str) -> list[str]:
    problems: list[str] = []
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.goto(url)
    page.wait_for_load_state("load")
    measured = page.evaluate(_OVERFLOWING)
    if measured["scrollWidth"] > SIZES[size][0]:
        problems.append(
            f"{url} at {size}: {measured['scrollWidth']} px wide, {measured['offenders']}"
        )
    if size == "phone" and (small := page.evaluate(_SMALL_TARGETS)):
        problems.append(f"{url} at {size}: targets under 44 px: {small}")
    problems.extend(f"{url} at {size}: {found}" for found in violations(page))
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"{name}-{size}.png", full_page=True)
    return problems


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_both_screens(
    localized_page: Page,
    live_portal: LivePortal,
    screens: showcase.Showcase,
    role: str,
    language: str,
) -> None:
    page = localized_page
    email = ROLES[role]
    if email:
        _sign_in(page, email)
    target = os.environ.get("SCREENSHOTS_DIR")
    problems: list[str] = []
    for endpoint, url in page_urls(live_portal.app, screens, role).items():
        shots = Path(target) / language / role if target else None
        for size in SIZES:
            problems.extend(_look_at(page, url, size, shots, endpoint))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_line_editor_fits_and_shows_whole_values(
    localized_page: Page, live_portal: LivePortal, screens: showcase.Showcase, size: str
) -> None:
    page = localized_page
    _sign_in(page, showcase.MEMBER)
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.goto(f"/organizations/{screens.organization_id}/deposits/new")
    open_form_sections(page)
    page.get_by_role("button", name="Add line").click()
    line = page.get_by_role("group", name="Line 1")
    line.get_by_label("Date").fill("2026-11-28")
    line.get_by_label("Reference", exact=True).fill("EDF-2026-11-004512")
    line.get_by_label("Label", exact=True).fill("Électricité boutique et fournil — novembre 2026")
    line.get_by_label("Debit", exact=True).fill("1 000 €")
    widths = {
        name: line.get_by_label(name, exact=True).bounding_box()["width"]
        for name in ("Date", "Journal", "Account", "Debit", "Credit", "Reference", "Label")
    }
    # A date needs about 9 rem to show whole; the label is the widest field of its line.
    assert min(widths["Date"], widths["Reference"]) >= 150, widths
    assert widths["Label"] == max(widths.values()), widths
    measured = page.evaluate(_OVERFLOWING)
    assert measured["scrollWidth"] <= SIZES[size][0], measured
    if size == "phone":
        assert page.evaluate(_SMALL_TARGETS) == []
    assert violations(page) == []


@pytest.mark.parametrize("language", ["en"])
def test_the_file_input_shows_where_the_keyboard_is(
    localized_page: Page, live_portal: LivePortal, screens: showcase.Showcase
) -> None:
    page = localized_page
    _sign_in(page, showcase.MEMBER)
    page.goto(f"/organizations/{screens.organization_id}/deposits/new")
    field = page.get_by_label("Invoice file")
    field.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert field.evaluate("element => element === document.activeElement")
    ring = field.evaluate(
        "element => { const style = getComputedStyle(element);"
        " return [style.outlineStyle, parseFloat(style.outlineWidth)]; }"
    )
    assert ring[0] != "none" and ring[1] >= 2, ring
