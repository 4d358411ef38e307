"""French by default, English on request: the switch, its memory, and what each page speaks."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.i18n import LOCALE_COOKIE
from portal.models import Deposit, DepositStatus, Role, User
from portal.notices import Notice
from tests import factories
from tests.app.test_deposits import deposit_form, line, send
from tests.conftest import app_config


def html_lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)"', page).group(1)


def test_a_browser_without_preference_gets_french_by_default(
    database_url: str, tmp_path: Path, sandbox
) -> None:
    config = app_config(database_url, tmp_path, sandbox)
    del config["DEFAULT_LOCALE"]  # what a deployment gets without PORTAL_DEFAULT_LOCALE
    app = create_app(config)
    try:
        page = app.test_client().get("/login").get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert html_lang(page) == "fr"
    assert "Adresse e-mail" in page and "Mot de passe" in page and "Se connecter" in page


def test_the_browser_language_is_followed(client: FlaskClient) -> None:
    french = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert html_lang(french.get_data(as_text=True)) == "fr"
    assert "Se connecter" in french.get_data(as_text=True)
    assert html_lang(english.get_data(as_text=True)) == "en"
    assert "Log in" in english.get_data(as_text=True)


def test_a_german_browser_gets_the_default_language(
    database_url: str, tmp_path: Path, sandbox
) -> None:
    app = create_app(app_config(database_url, tmp_path, sandbox, DEFAULT_LOCALE="fr"))
    try:
        page = app.test_client().get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    finally:
        with app.app_context():
            db.engine.dispose()
    assert html_lang(page.get_data(as_text=True)) == "fr"


def test_every_page_has_the_switch(client: FlaskClient, login_as) -> None:
    pages = [client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)]
    login_as(factories.user())
    for path in ("/organizations/", "/organizations/new", "/no-such-page"):
        pages.append(client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True))
    for path, page in zip(
        ("/login", "/organizations/", "/organizations/new", "404"), pages, strict=True
    ):
        assert 'value="fr" lang="fr"' in page and ">Français</button>" in page, path
        assert 'value="en" lang="en"' in page and ">English</button>" in page, path


def test_signed_out_the_switch_sets_a_cookie_and_returns_to_the_page(client: FlaskClient) -> None:
    response = client.post("/language", data={"locale": "en", "next": "/register"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/register"
    assert client.get_cookie(LOCALE_COOKIE).value == "en"
    page = client.get("/register", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(page) == "en" and "Create account" in page


def test_the_switch_is_saved_on_the_account_and_outlives_the_session(
    app: Flask, client: FlaskClient, login_as
) -> None:
    user = factories.user()
    login_as(user)
    client.post("/language", data={"locale": "fr", "next": "/organizations/"})
    assert db.session.get(User, user.id).locale == "fr"
    client.post("/logout")
    client.delete_cookie(LOCALE_COOKIE)  # another browser: only the account remembers
    login_as(user)
    page = client.get("/organizations/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(page) == "fr" and "Se déconnecter" in page


def test_the_switch_never_leads_off_site_nor_accepts_other_languages(
    client: FlaskClient,
) -> None:
    off_site = client.post("/language", data={"locale": "en", "next": "https://evil.test/x"})
    assert off_site.headers["Location"] == "/"
    for next_path in ("//evil.test/x", "/\\evil.test"):
        assert (
            client.post("/language", data={"locale": "en", "next": next_path}).headers["Location"]
            == "/"
        )
    client.delete_cookie(LOCALE_COOKIE)
    refused = client.post("/language", data={"locale": "de", "next": "/login"})
    assert refused.status_code == 303 and client.get_cookie(LOCALE_COOKIE) is None


def test_a_stored_message_is_worded_in_each_readers_language(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization)
    deposit.status = DepositStatus.QUEUED
    deposit.attempts = 1
    deposit.last_error = Notice(
        "deposit.waiting", {"cause": {"code": "upstream.unavailable", "params": {"status": 503}}}
    )
    db.session.commit()
    stored = db.session.scalars(select(Deposit.last_error)).one()
    assert stored == deposit.last_error  # a code and its parameters, not a sentence
    login_as(member)
    url = f"/deposits/{deposit.id}"
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "OneConnect is unavailable for now (HTTP 503)." in english
    assert "OneConnect est indisponible pour le moment (HTTP 503)." in french


def test_dates_follow_the_page_language(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization)
    login_as(member)
    english = client.get(f"/deposits/{deposit.id}", headers={"Accept-Language": "en"})
    french = client.get(f"/deposits/{deposit.id}", headers={"Accept-Language": "fr"})
    when = deposit.created_at
    assert re.search(r">\d{2}/\d{2}/\d{4} \d{2}:\d{2}</time>", french.get_data(as_text=True))
    assert f">{when:%b}" in english.get_data(as_text=True)


def test_entry_line_errors_use_wtforms_french_messages(
    client: FlaskClient, login_as, sandbox
) -> None:
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    member = factories.user(email="owner@boulangerie.test")
    organization = factories.organization(member, integration_id=integration_id, secret=secret)
    login_as(member)
    client.set_cookie(LOCALE_COOKIE, "fr")
    form = deposit_form(**line(0, debit="10", due_date="09/04/2026"))
    page = html.unescape(send(client, organization, form).get_data(as_text=True))
    assert "N'est pas une date valide." in page
    assert "Not a valid date" not in page


def test_the_admin_menu_is_a_place_not_a_role(client: FlaskClient, login_as) -> None:
    login_as(factories.user(role=Role.ADMIN))
    page = client.get("/admin/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert ">Administration</a>" in page  # the menu
    assert "Administrateur" in page  # the role beside the e-mail
