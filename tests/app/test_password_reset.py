"""Forgot your password?: a link by e-mail, good once and for one hour, stored as a SHA-256;
the answer never says whether the account exists; the new password ends every session."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, MailKind, PasswordReset, User, utcnow
from tests import factories
from tests.support.mail import BASE_URL, app, rows, send_all

NEW_PASSWORD = "a brand new passphrase"

__all__ = ["app"]  # the fixture: this module's portal sends mail to the test's SMTP server


@pytest.fixture
def member(app: Flask) -> User:
    return factories.user("claire@atelier.test", locale="en")


def ask(client: FlaskClient, email: str) -> Any:
    return client.post("/forgot-password", data={"email": email})


def link_in(smtp: Any) -> str:
    (mail,) = smtp.messages()
    return re.search(rf"{BASE_URL}(/reset-password/[\w-]+)", mail.text).group(1)


def test_the_reset_email_carries_a_link_stored_only_as_its_hash(
    client: FlaskClient, smtp: Any, member: User
) -> None:
    response = ask(client, "Claire@Atelier.test")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert send_all() == 1
    (mail,) = smtp.messages()
    assert mail.envelope_to == ("claire@atelier.test",)
    assert mail.subject == "Reset your password"
    path = link_in(smtp)
    token = path.rsplit("/", 1)[1]
    assert f"{BASE_URL}{path}" in mail.html
    assert "works once" in mail.text and "one hour" in mail.text
    assert mail.header("List-Unsubscribe") == ""  # asked for: nothing to unsubscribe from
    (reset,) = db.session.scalars(select(PasswordReset)).all()
    assert reset.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert reset.expires_at - reset.created_at == timedelta(hours=1)
    (row,) = rows()
    assert row.kind is MailKind.PASSWORD_RESET and row.secret is None  # erased once sent
    for table in ("password_resets", "outgoing_mails", "audit_events"):
        dump = " ".join(map(str, db.session.execute(text(f"SELECT * FROM {table}")).all()))
        assert token not in dump


def test_the_answer_is_the_same_whether_or_not_the_account_exists(
    client: FlaskClient, smtp: Any, member: User
) -> None:
    known = ask(client, "claire@atelier.test")
    unknown = ask(client, "nobody@atelier.test")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    login = client.get("/login").get_data(as_text=True)  # both answers' messages, flashed
    assert "If an account uses claire@atelier.test, a link" in login
    assert "If an account uses nobody@atelier.test, a link" in login
    send_all()
    assert [mail.envelope_to for mail in smtp.messages()] == [("claire@atelier.test",)]
    requested = db.session.scalars(
        select(AuditEvent.actor_email).where(AuditEvent.action == audit.PASSWORD_RESET_REQUESTED)
    ).all()
    assert sorted(requested) == ["claire@atelier.test", "nobody@atelier.test"]


def test_a_deactivated_account_gets_no_link(client: FlaskClient, member: User) -> None:
    member.active = False
    db.session.commit()
    ask(client, member.email)
    assert rows() == []


def test_at_most_three_links_an_hour_reach_one_account(
    client: FlaskClient, smtp: Any, member: User
) -> None:
    for _ in range(5):
        assert ask(client, member.email).status_code == 303
    assert len(rows()) == 3


def test_the_link_works_once_and_ends_every_session(
    app: Flask, client: FlaskClient, smtp: Any, member: User, login_as
) -> None:
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": member.email, "password": factories.PASSWORD})
    assert elsewhere.get("/organizations/").status_code == 200
    ask(client, member.email)
    send_all()
    path = link_in(smtp)

    form = client.get(path)
    assert form.status_code == 200 and "New password" in form.get_data(as_text=True)
    short = client.post(path, data={"password": "short"})
    assert short.status_code == 422
    done = client.post(path, data={"password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")

    ended = elsewhere.get("/organizations/")  # its session ended
    assert ended.status_code in (302, 303) and "/login" in ended.headers["Location"]
    old = client.post("/login", data={"email": member.email, "password": factories.PASSWORD})
    assert old.status_code == 422
    new = client.post("/login", data={"email": member.email, "password": NEW_PASSWORD})
    assert new.status_code == 303
    client.post("/logout")

    again = client.get(path)
    assert again.status_code == 410 and "This link no longer works" in again.get_data(as_text=True)
    reuse = client.post(path, data={"password": "yet another passphrase"})
    assert reuse.status_code == 410
    assert (
        client.post("/login", data={"email": member.email, "password": NEW_PASSWORD}).status_code
        == 303
    )
    changed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.USER_PASSWORD_RESET)
    ).one()
    assert changed.actor_id == member.id and changed.detail["via"] == "e-mail link"


def test_a_link_is_good_for_one_hour(client: FlaskClient, smtp: Any, member: User) -> None:
    with time_machine.travel(utcnow(), tick=False) as traveller:
        ask(client, member.email)
        send_all()
        path = link_in(smtp)
        traveller.shift(timedelta(minutes=59))
        assert client.get(path).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.get(path).status_code == 410
        assert client.post(path, data={"password": NEW_PASSWORD}).status_code == 410
    db.session.refresh(member)
    assert (
        client.post("/login", data={"email": member.email, "password": NEW_PASSWORD}).status_code
        == 422
    )


def test_a_new_password_spends_the_other_links_of_the_account(
    client: FlaskClient, smtp: Any, member: User
) -> None:
    ask(client, member.email)
    ask(client, member.email)
    send_all()
    first, second = (
        re.search(rf"{BASE_URL}(/reset-password/[\w-]+)", mail.text).group(1)
        for mail in smtp.messages()
    )
    assert client.post(first, data={"password": NEW_PASSWORD}).status_code == 303
    assert client.get(second).status_code == 410


def test_an_unknown_token_shows_the_way_to_a_new_link(client: FlaskClient) -> None:
    page = client.get("/reset-password/not-a-token")
    assert page.status_code == 410
    assert "/forgot-password" in page.get_data(as_text=True)


def test_the_login_page_leads_to_the_form(client: FlaskClient) -> None:
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in login and "Forgot your password?" in login
    form = client.get("/forgot-password").get_data(as_text=True)
    assert 'for="email"' in form and "Send link" in form
