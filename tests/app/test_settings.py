"""Settings: which e-mails and which language, Save; Sign out everywhere; and the one-click
unsubscribe link of notices (RFC 8058), which needs no session and no CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import audit, create_app
from portal.extensions import db
from portal.mail import unsubscribe
from portal.models import AuditEvent, MailKind, User, UserSession
from tests import factories
from tests.conftest import app_config


@pytest.fixture
def member(app: Flask) -> User:
    return factories.user("sophie@boulangerie.test")


def checkbox(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bid="{name}"[^>]*>', page)
    assert tag is not None and 'type="checkbox"' in tag.group(0)
    return "checked" if re.search(r"\bchecked\b", tag.group(0)) else "unchecked"


def test_every_page_links_to_settings(client: FlaskClient, login_as, member: User) -> None:
    login_as(member)
    page = client.get("/organizations/").get_data(as_text=True)
    assert 'href="/settings/"' in page and ">Settings<" in page


def test_refusal_emails_are_checked_by_default_and_save_unchecks_them(
    client: FlaskClient, login_as, member: User
) -> None:
    login_as(member)
    page = client.get("/settings/").get_data(as_text=True)
    assert "E-mail me when an invoice is refused" in page
    assert checkbox(page, "notify_refusals") == "checked"
    assert checkbox(page, "weekly_digest") == "unchecked"
    assert '<label for="notify_refusals">' in page

    response = client.post(
        "/settings/",
        data={
            "notify_failures": "y",
            "notify_revocations": "y",
            "weekly_digest": "y",
            "locale": "fr",
        },
    )
    assert response.status_code == 303
    db.session.refresh(member)
    assert not member.notify_refusals and member.weekly_digest and member.locale == "fr"
    changed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.NOTIFICATIONS_CHANGED)
    ).one()
    assert changed.detail == {
        "refusals": False,
        "digest": True,
        "language": "fr",
        "via": "settings",
    }
    again = client.get("/settings/").get_data(as_text=True)
    assert "Vos paramètres sont enregistrés." in again  # now in the chosen language


def test_sign_out_everywhere_ends_every_session_this_one_included(
    app: Flask, client: FlaskClient, login_as, member: User
) -> None:
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": member.email, "password": factories.PASSWORD})
    login_as(member)
    assert db.session.scalars(select(UserSession).where(UserSession.user_id == member.id)).all()
    response = client.post("/settings/sessions/end")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert (
        db.session.scalars(select(UserSession).where(UserSession.user_id == member.id)).all() == []
    )
    for browser in (client, elsewhere):
        answer = browser.get("/organizations/")
        assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.SESSIONS_ENDED)
    ).one()
    assert event.actor_id == member.id


@pytest.fixture
def protected_app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    """CSRF on, as deployed: the one-click unsubscribe must work without a token."""
    app = create_app(app_config(database_url, tmp_path, sandbox, WTF_CSRF_ENABLED=True))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_one_click_unsubscribe_needs_no_session_nor_csrf_token(protected_app: Flask) -> None:
    member = factories.user("karim@garage.test")
    token = unsubscribe.token(member.id, MailKind.REFUSAL)
    client = protected_app.test_client()
    asked = client.get(f"/settings/unsubscribe/{token}")
    assert asked.status_code == 200 and "Stop these e-mails?" in asked.get_data(as_text=True)
    db.session.refresh(member)
    assert member.notify_refusals  # following the link only asks

    done = client.post(
        f"/settings/unsubscribe/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200 and "You will no longer get" in done.get_data(as_text=True)
    db.session.refresh(member)
    assert not member.notify_refusals and member.notify_failures
    assert client.post(f"/settings/unsubscribe/{token}").status_code == 200  # twice: no harm
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.NOTIFICATIONS_CHANGED)
    ).all()
    assert [event.detail for event in events] == [{"refusals": False, "via": "unsubscribe link"}]
    # Every other form still wants its token.
    assert client.post("/forgot-password", data={"email": "a@b.test"}).status_code == 400


def test_a_forged_unsubscribe_token_changes_nothing(client: FlaskClient, member: User) -> None:
    token = unsubscribe.token(member.id, MailKind.DIGEST)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/settings/unsubscribe/{forged}").status_code == 404
    assert client.get("/settings/unsubscribe/nonsense").status_code == 404


@pytest.mark.parametrize(
    ("kind", "setting"),
    [
        (MailKind.DEPOSIT_FAILED, "notify_failures"),
        (MailKind.INTEGRATION_REVOKED, "notify_revocations"),
        (MailKind.DIGEST, "weekly_digest"),
    ],
)
def test_each_kind_of_email_unsubscribes_from_its_own_setting(
    client: FlaskClient, member: User, kind: MailKind, setting: str
) -> None:
    member.weekly_digest = True
    db.session.commit()
    client.post(f"/settings/unsubscribe/{unsubscribe.token(member.id, kind)}")
    db.session.refresh(member)
    others = {"notify_refusals", "notify_failures", "notify_revocations", "weekly_digest"} - {
        setting
    }
    assert getattr(member, setting) is False
    assert all(getattr(member, other) for other in others)
