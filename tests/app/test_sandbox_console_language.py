"""The sandbox console speaks French by default, English on request, and shares the portal's
language cookie; its switch works without JavaScript and only leads back to this site."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal.i18n import LOCALE_COOKIE
from portal.sandbox import create_sandbox_app

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def sandbox_app() -> Iterator[Flask]:
    app = create_sandbox_app({"SANDBOX_DECISION_DELAY": None})
    try:
        yield app
    finally:
        app.extensions["sandbox"].close()


@pytest.fixture
def client(sandbox_app: Flask) -> FlaskClient:
    """A client of the console mounted under /sandbox, as the portal mounts it (CSRF on)."""
    host = Flask("host")
    host.wsgi_app = DispatcherMiddleware(host.wsgi_app, {"/sandbox": sandbox_app})  # type: ignore[method-assign]
    return host.test_client()


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="(\w+)"', page)
    assert match, "no <html lang>"
    return match.group(1)


def pressed(page: str) -> list[str]:
    """The languages of the switch's buttons marked as the current one."""
    return re.findall(r'<button[^>]*lang="(\w+)"[^>]*aria-pressed="true"[^>]*>', page)


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_the_console_speaks_french_by_default(client: FlaskClient) -> None:
    page = client.get("/sandbox/").get_data(as_text=True)

    assert html_lang(page) == "fr"
    assert "Nom de l'organisation" in html.unescape(page)
    assert pressed(page) == ["fr"]


def test_the_console_speaks_english_to_an_english_browser(client: FlaskClient) -> None:
    page = client.get("/sandbox/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True
    )

    assert html_lang(page) == "en"
    assert "<h1>OneConnect sandbox console</h1>" in page
    assert "Organization name" in page
    assert pressed(page) == ["en"]


def test_the_browsers_first_language_the_console_speaks_wins(client: FlaskClient) -> None:
    german_then_english = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5,fr;q=0.3"}

    assert (
        html_lang(client.get("/sandbox/", headers=german_then_english).get_data(as_text=True))
        == "en"
    )


def test_sandbox_default_locale_applies_when_the_browser_names_neither() -> None:
    app = create_sandbox_app({"SANDBOX_DECISION_DELAY": None, "SANDBOX_DEFAULT_LOCALE": "en"})
    try:
        page = app.test_client().get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    finally:
        app.extensions["sandbox"].close()

    assert html_lang(page) == "en"


def test_the_portals_language_cookie_wins_over_the_browser(client: FlaskClient) -> None:
    client.set_cookie(LOCALE_COOKIE, "en")

    page = client.get("/sandbox/", headers={"Accept-Language": "fr"}).get_data(as_text=True)

    assert html_lang(page) == "en"


def test_the_switch_sets_the_cookie_and_leads_back(client: FlaskClient) -> None:
    page = client.get("/sandbox/?tab=1").get_data(as_text=True)
    assert re.search(r'name="next" value="/sandbox/\?tab=1"', page)

    answer = client.post(
        "/sandbox/language",
        data={"locale": "en", "next": "/sandbox/?tab=1", "csrf_token": csrf_token(page)},
    )

    assert (answer.status_code, answer.headers["Location"]) == (303, "/sandbox/?tab=1")
    [cookie] = answer.headers.getlist("Set-Cookie")
    assert cookie.startswith(f"{LOCALE_COOKIE}=en;")
    for attribute in ("Path=/", "Max-Age=31536000", "HttpOnly", "SameSite=Lax"):
        assert attribute in cookie.split("; ")
    english = client.get("/sandbox/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(english) == "en" and pressed(english) == ["en"]


@pytest.mark.parametrize(
    "next_path", ["https://evil.test/x", "//evil.test/x", "/\\evil.test/x", "sandbox/", ""]
)
def test_the_switch_refuses_to_lead_off_site(client: FlaskClient, next_path: str) -> None:
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    answer = client.post(
        "/sandbox/language", data={"locale": "en", "next": next_path, "csrf_token": token}
    )

    assert (answer.status_code, answer.headers["Location"]) == (303, "/sandbox/")


def test_the_switch_ignores_an_unknown_language(client: FlaskClient) -> None:
    token = csrf_token(client.get("/sandbox/").get_data(as_text=True))

    answer = client.post(
        "/sandbox/language", data={"locale": "de", "next": "/sandbox/", "csrf_token": token}
    )

    assert (answer.status_code, answer.headers["Location"]) == (303, "/sandbox/")
    assert answer.headers.getlist("Set-Cookie") == []


def test_the_switch_needs_its_csrf_token(client: FlaskClient) -> None:
    answer = client.post("/sandbox/language", data={"locale": "en", "next": "/sandbox/"})

    assert answer.status_code == 400
    assert not any(
        cookie.startswith(LOCALE_COOKIE) for cookie in answer.headers.getlist("Set-Cookie")
    )


def test_times_are_paris_time_written_in_the_pages_language(
    sandbox_app: Flask, client: FlaskClient
) -> None:
    [key] = sandbox_app.extensions["sandbox"].signing_keys()
    paris = key.created_at.astimezone(PARIS)
    hour = paris.strftime("%I").lstrip("0")

    french = client.get("/sandbox/").get_data(as_text=True)
    english = client.get("/sandbox/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert paris.strftime("%d/%m/%Y %H:%M:%S") in french
    assert f"{paris:%b} {paris.day}, {paris.year}, {hour}:{paris:%M:%S %p}" in english
