"""Sessions end for real: a session cookie copied before Log out, a password change or a
deactivation signs nobody in afterwards (contract, "Sessions")."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User, UserSession
from tests import factories

PROTECTED = "/organizations/"


def sign_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 303
    return client


def signed_in(client: FlaskClient) -> bool:
    return client.get(PROTECTED).status_code == 200


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (stolen, or a second tab restored)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_cookie_copied_before_log_out_no_longer_signs_in(app: Flask) -> None:
    member = factories.user()
    client = sign_in(app, member)
    stolen = copy_of(app, client)
    assert signed_in(stolen)
    client.post("/logout")
    assert not signed_in(client)
    response = stolen.get(PROTECTED)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_log_out_ends_only_its_own_session(app: Flask) -> None:
    member = factories.user()
    laptop, phone = sign_in(app, member), sign_in(app, member)
    laptop.post("/logout")
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_a_password_reset_ends_every_session_of_the_account(app: Flask) -> None:
    member = factories.user()
    admin = factories.user("admin@example.test", role=Role.ADMIN)
    laptop, phone = sign_in(app, member), sign_in(app, member)
    console = sign_in(app, admin)
    assert console.post(f"/admin/users/{member.id}/password").status_code == 200
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(console)  # the admin's own session is untouched


def test_deactivation_ends_sessions_even_after_reactivation(app: Flask) -> None:
    member = factories.user()
    admin = factories.user("admin@example.test", role=Role.ADMIN)
    client = sign_in(app, member)
    console = sign_in(app, admin)
    console.post(f"/admin/users/{member.id}/deactivate", data={"confirm": "y"})
    assert db.session.scalars(select(User).where(User.id == member.id)).one().active is False
    console.post(f"/admin/users/{member.id}/reactivate")
    assert not signed_in(client)


def test_the_cookie_holds_no_reusable_user_id_and_the_server_keeps_only_a_digest(
    app: Flask,
) -> None:
    member = factories.user()
    client = sign_in(app, member)
    with client.session_transaction() as session:
        key = session["_user_id"]
    user_id, _, token = key.partition(":")
    assert user_id == str(member.id) and len(token) >= 40
    stored = db.session.scalars(select(UserSession)).one()
    assert token not in stored.token_sha256
    # A cookie naming the user alone (as before this change) signs nobody in.
    with client.session_transaction() as session:
        session["_user_id"] = str(member.id)
    assert not signed_in(client)
