"""A live portal with its embedded sandbox, as `make run` serves it, driven by the system Chromium."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.support.serving import BackgroundServer

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic would only meet this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LivePortal:
    url: str
    app: Flask

    @property
    def sandbox(self) -> Any:
        return self.app.extensions["sandbox_app"].extensions["sandbox"]


@pytest.fixture
def live_portal(database_url: str, tmp_path: Path) -> Iterator[LivePortal]:
    port = _free_port()
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "PORT": port,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "browser-test-secret",
            "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
            "SANDBOX_DECISION_DELAY": 1.0,
            "STATUS_POLL_SECONDS": 1,
            "RATELIMIT_ENABLED": False,
            # The demo's local mailbox, on a port of its own (make run's is 8025).
            "MAILBOX_PORT": 0,
        }
    )
    server = BackgroundServer(app, name="live-portal", port=port, request_handler=QuietHandler)
    try:
        yield LivePortal(server.url, app)
    finally:
        # The sender and the sandbox's decisions (webhooks) stop first: nothing is then still
        # calling the server when it stops, and no connection outlives the test's database.
        if "sender" in app.extensions:
            sender_thread, stop = app.extensions["sender"]
            stop.set()
            sender_thread.join(timeout=10)
        app.extensions["sandbox_app"].extensions["sandbox"].close()
        server.stop()
        app.extensions["mailbox"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def browser_tab(browser: Any, live_portal: LivePortal, locale: str) -> Iterator[Any]:
    """A tab of a fresh browser context on the live portal, in `locale`; a JavaScript error on
    any of its pages fails the test."""
    context = browser.new_context(base_url=live_portal.url, locale=locale)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, live_portal: LivePortal) -> Iterator[Any]:
    with browser_tab(browser, live_portal, "en-GB") as tab:
        yield tab


def open_form_sections(page: Any) -> None:
    """Open every collapsed section of the deposit form (comment, reference, counterparty,
    entries), as a user would by clicking its title."""
    # After a click on a link the deposit page may not be there yet: wait for its sections.
    page.locator("details.form-section").first.wait_for(state="attached")
    closed = page.locator("details.form-section:not([open]) > summary")
    while closed.count():
        closed.first.click()
