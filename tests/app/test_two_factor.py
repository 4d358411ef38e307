"""Two-factor sign-in: enrolment, the code step after the password, replay, recovery codes,
throttling, the staff-and-admin requirement (and the demo where nothing is required), the
admin's reset, and the secret never shown again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import audit, create_app
from portal.admin import services as admin_services
from portal.auth import services as accounts
from portal.auth import sessions, totp
from portal.config import two_factor_roles
from portal.extensions import db
from portal.mail import rendering
from portal.models import (
    AuditEvent,
    MailKind,
    OutgoingMail,
    RecoveryCode,
    Role,
    TwoFactor,
    User,
    utcnow,
)
from tests import factories
from tests.conftest import app_config

SECRET_PATTERN = re.compile(r'data-secret="([A-Z2-7]+)"')
CODE_PATTERN = re.compile(r"<code>([0-9a-z]{5}-[0-9a-z]{5})</code>")
WRONG_CODE = "This code is not right, or was already used."


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time stands still unless a test moves it, at the start of a 30-second step."""
    start = datetime.fromtimestamp((int(utcnow().timestamp()) // 30) * 30 + 1, tz=utcnow().tzinfo)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


@pytest.fixture
def required_app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    """The portal as in production: PORTAL_TWO_FACTOR_REQUIRED unset, a real OneConnect API
    configured (here the sandbox on its own port), so staff and admins must use it."""
    config = app_config(database_url, tmp_path, sandbox)
    del config["TWO_FACTOR_REQUIRED"]
    application = create_app(config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def code_at(secret: str, moment: datetime | None = None) -> str:
    return pyotp.TOTP(secret).at(moment or utcnow())


def password_step(client: FlaskClient, user: User, **kwargs: Any) -> Any:
    return client.post(
        "/login", data={"email": user.email, "password": factories.PASSWORD}, **kwargs
    )


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Enrol the signed-in user as a person would: read the key, type the app's code."""
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1)
    shown = client.post("/settings/two-factor", data={"code": code_at(secret)})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    codes = CODE_PATTERN.findall(shown.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def enrolled(login_as: Any, clock: Any, **fields: Any) -> tuple[User, str, list[str]]:
    """A user who turned two-factor sign-in on, signed out; the clock a step later."""
    user = factories.user(**fields)
    client = login_as(user)
    secret, codes = enrol(client)
    client.post("/logout")
    clock.shift(30)
    return user, secret, codes


def signed_in(client: FlaskClient) -> bool:
    return client.get("/settings/").status_code == 200


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_enrolment_page_shows_a_qr_code_and_the_key_in_groups_of_four(
    login_as: Any, client: FlaskClient
) -> None:
    user = factories.user("sophie@example.test")
    login_as(user)
    response = client.get("/settings/two-factor")
    page = response.get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1)
    assert '<svg role="img"' in page and "<title>QR code to scan" in page
    assert totp.grouped(secret) in page and re.fullmatch(
        r"([A-Z2-7]{4} )+[A-Z2-7]{4}", totp.grouped(secret)
    )
    assert "OneConnect portal" in page and "sophie@example.test" in page
    assert response.headers["Cache-Control"] == "private, no-store"
    # Reloading shows the same key: a phone that scanned it still makes the right codes.
    assert secret in client.get("/settings/two-factor").get_data(as_text=True)
    record = db.session.get(TwoFactor, user.id)
    assert record is not None and not record.enabled
    assert secret.encode() not in record.secret_encrypted  # encrypted at rest


def test_the_qr_code_names_the_portal_and_the_account() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "sophie@example.test")
    assert uri == (
        "otpauth://totp/OneConnect%20portal:sophie%40example.test"
        "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=OneConnect%20portal"
    )
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "OneConnect portal" and parsed.name == "sophie@example.test"


def test_a_wrong_first_code_leaves_two_factor_off(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user = factories.user()
    login_as(user)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1)
    wrong = code_at(secret, utcnow() - timedelta(minutes=5))
    response = client.post("/settings/two-factor", data={"code": wrong})
    assert response.status_code == 422
    assert "This is not the code the app shows now." in response.get_data(as_text=True)
    assert not accounts.has_second_factor(user)
    assert db.session.scalars(select(RecoveryCode)).all() == []


def test_enrolment_turns_it_on_with_ten_recovery_codes_kept_hashed(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user = factories.user()
    login_as(user)
    _, codes = enrol(client)
    assert accounts.has_second_factor(user)
    digests = set(db.session.scalars(select(RecoveryCode.code_sha256)))
    assert digests == {totp.recovery_digest(code) for code in codes}
    assert len(set(codes)) == 10
    assert [event.actor_id for event in events(audit.TWO_FACTOR_ENABLED)] == [user.id]
    settings = client.get("/settings/").get_data(as_text=True)
    assert "On since" in settings


def test_sign_in_asks_for_the_code_after_the_password_then_follows_next(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    response = password_step(client, user, query_string={"next": "/settings/"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/code?next=/settings/"
    assert not signed_in(client)  # the password alone signs nobody in
    step = client.get("/login/code?next=/settings/").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in step and "/login/code?next=/settings/" in step
    done = client.post("/login/code?next=/settings/", data={"code": code_at(secret)})
    assert done.status_code == 303 and done.headers["Location"] == "/settings/"
    assert signed_in(client)
    assert [e.actor_id for e in events(audit.PASSWORD_ACCEPTED)] == [user.id]
    assert user.id in [e.actor_id for e in events(audit.SIGN_IN)]


def test_a_wrong_code_says_so_and_signs_nobody_in(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    password_step(client, user)
    for typed in ("000000", "12345", "abcdef", code_at(secret, utcnow() - timedelta(minutes=2))):
        response = client.post("/login/code", data={"code": typed})
        assert response.status_code == 422
        assert WRONG_CODE in response.get_data(as_text=True)
    assert not signed_in(client)
    assert len(events(audit.TWO_FACTOR_FAILED)) == 4


def test_a_code_of_the_step_before_or_after_is_accepted_not_two_steps_away(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    clock.shift(60)  # the step before is not the enrolment's (used already)
    password_step(client, user)
    two_ago = code_at(secret, utcnow() - timedelta(seconds=60))
    assert client.post("/login/code", data={"code": two_ago}).status_code == 422
    previous = code_at(secret, utcnow() - timedelta(seconds=30))
    assert client.post("/login/code", data={"code": previous}).status_code == 303
    client.post("/logout")
    clock.shift(60)
    password_step(client, user)
    upcoming = code_at(secret, utcnow() + timedelta(seconds=30))
    assert client.post("/login/code", data={"code": upcoming}).status_code == 303


def test_a_code_works_once_even_within_its_step(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    code = code_at(secret)
    password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 303
    client.post("/logout")
    password_step(client, user)
    replayed = client.post("/login/code", data={"code": code})
    assert replayed.status_code == 422 and WRONG_CODE in replayed.get_data(as_text=True)
    # An older code that was never typed is refused too: the last accepted step is a floor.
    older = code_at(secret, utcnow() - timedelta(seconds=30))
    assert client.post("/login/code", data={"code": older}).status_code == 422
    assert not signed_in(client)


def test_the_code_confirming_enrolment_cannot_sign_in_afterwards(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user = factories.user()
    login_as(user)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1)
    client.post("/settings/two-factor", data={"code": code_at(secret)})
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": code_at(secret)}).status_code == 422


def test_a_recovery_code_signs_in_once_however_it_is_typed(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, _, codes = enrolled(login_as, clock)
    typed = codes[3].replace("-", " ").upper()
    password_step(client, user)
    assert client.post("/login/code", data={"code": typed}).status_code == 303
    assert [e.actor_id for e in events(audit.RECOVERY_CODE_USED)] == [user.id]
    left = client.get("/settings/two-factor").get_data(as_text=True)
    assert "9 recovery codes left" in left
    client.post("/logout")
    password_step(client, user)
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 422 and WRONG_CODE in again.get_data(as_text=True)
    assert client.post("/login/code", data={"code": codes[4]}).status_code == 303


def test_new_recovery_codes_need_proof_and_replace_the_old_ones(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, _, old_codes = enrolled(login_as, clock)
    password_step(client, user)
    client.post("/login/code", data={"code": old_codes[0]})
    refused = client.post("/settings/two-factor/recovery-codes", data={"renew-proof": "guess"})
    assert refused.status_code == 422
    assert "neither a current code from your app nor your password" in refused.get_data(
        as_text=True
    )
    shown = client.post(
        "/settings/two-factor/recovery-codes", data={"renew-proof": factories.PASSWORD}
    )
    new_codes = CODE_PATTERN.findall(shown.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert [e.actor_id for e in events(audit.RECOVERY_CODES_RENEWED)] == [user.id]
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": old_codes[1]}).status_code == 422
    assert client.post("/login/code", data={"code": new_codes[0]}).status_code == 303


def test_wrong_codes_are_throttled_per_source_like_passwords(
    app: Flask, login_as: Any, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    stranger = app.test_client()
    source = {"REMOTE_ADDR": "203.0.113.9"}
    password_step(stranger, user, environ_base=source)
    for _ in range(accounts.MAX_FAILURES):
        stranger.post("/login/code", data={"code": "000000"}, environ_base=source)
    refused = stranger.post("/login/code", data={"code": code_at(secret)}, environ_base=source)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    # Typing the right password again clears nothing: the wrong codes still count.
    assert password_step(stranger, user, environ_base=source).status_code == 303
    again = stranger.post("/login/code", data={"code": code_at(secret)}, environ_base=source)
    assert again.status_code == 429
    # The owner, from elsewhere, signs in as usual.
    owner = app.test_client()
    home = {"REMOTE_ADDR": "198.51.100.7"}
    password_step(owner, user, environ_base=home)
    assert (
        owner.post("/login/code", data={"code": code_at(secret)}, environ_base=home).status_code
        == 303
    )
    # After the wait, the stranger's next try is checked again (and wrong).
    clock.shift(31)
    password_step(stranger, user, environ_base=source)
    assert (
        stranger.post("/login/code", data={"code": "000000"}, environ_base=source).status_code
        == 422
    )


def test_the_code_step_lasts_five_minutes(login_as: Any, client: FlaskClient, clock: Any) -> None:
    user, secret, _ = enrolled(login_as, clock)
    password_step(client, user)
    clock.shift(5 * 60 + 1)
    response = client.post("/login/code", data={"code": code_at(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert not signed_in(client)
    assert "took more than 5 minutes" in client.get("/login").get_data(as_text=True)


def test_a_password_change_ends_the_code_step(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    admin = factories.user(role=Role.ADMIN)
    password_step(client, user)
    admin_services.reset_password(user, actor=admin)
    response = client.post("/login/code", data={"code": code_at(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert not signed_in(client)


def test_without_a_password_step_the_code_page_sends_to_login(client: FlaskClient) -> None:
    response = client.get("/login/code?next=/settings/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/settings/"
    assert client.post("/login/code", data={"code": "123456"}).status_code == 303


def test_a_member_turns_it_off_with_a_code_or_the_password(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, secret, codes = enrolled(login_as, clock)
    password_step(client, user)
    client.post("/login/code", data={"code": codes[0]})
    wrong = client.post("/settings/two-factor/off", data={"off-proof": "000000"})
    assert wrong.status_code == 422 and accounts.has_second_factor(user)
    done = client.post("/settings/two-factor/off", data={"off-proof": code_at(secret)})
    assert done.status_code == 303 and not accounts.has_second_factor(user)
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert db.session.get(TwoFactor, user.id) is None
    client.post("/logout")
    assert password_step(client, user).headers["Location"] == "/"  # the password alone again


def test_in_the_demo_nothing_is_required_and_staff_may_turn_it_off(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    staff = factories.user(role=Role.STAFF)
    login_as(staff)
    assert client.get("/review/").status_code == 200  # not sent to enrol
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "requires two-factor" not in page
    enrol(client)
    clock.shift(30)
    assert (
        client.post("/settings/two-factor/off", data={"off-proof": factories.PASSWORD}).status_code
        == 303
    )
    assert not accounts.has_second_factor(staff)


def test_defaults_require_it_of_staff_and_admins_against_the_real_api_only() -> None:
    assert two_factor_roles(None, embedded=False) == {"staff", "admin"}
    assert two_factor_roles(None, embedded=True) == frozenset()
    assert two_factor_roles("", embedded=False) == frozenset()
    assert two_factor_roles(" Admin , member", embedded=True) == {"admin", "member"}
    with pytest.raises(ValueError, match="unknown roles \\['boss'\\]"):
        two_factor_roles("admin,boss", embedded=True)


def test_the_setting_is_read_from_the_environment_even_empty() -> None:
    from portal.config import read_environment

    assert read_environment({"PORTAL_TWO_FACTOR_REQUIRED": ""})["TWO_FACTOR_REQUIRED"] == ""
    assert "TWO_FACTOR_REQUIRED" not in read_environment({})


def _sign_in_with_password(client: FlaskClient, user: User) -> None:
    assert password_step(client, user).status_code == 303


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_required_staff_and_admins_are_sent_to_enrol_from_every_page(
    required_app: Flask, role: Role, clock: Any
) -> None:
    assert required_app.config["TWO_FACTOR_REQUIRED"] == {"staff", "admin"}
    user = factories.user(role=role)
    client = required_app.test_client()
    _sign_in_with_password(client, user)
    for path in ("/", "/organizations/", "/settings/", "/review/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/settings/two-factor", path
    fragment = client.get("/organizations/", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Location"].endswith("/settings/two-factor")
    page = client.get("/settings/two-factor")
    assert page.status_code == 200
    assert "Your role requires two-factor sign-in" in page.get_data(as_text=True)
    assert client.get("/static/css/portal.css").status_code == 200
    assert client.post("/language", data={"locale": "fr"}).status_code in (302, 303)
    assert client.post("/language", data={"locale": "en"}).status_code in (302, 303)
    enrol(client)
    assert client.get("/settings/").status_code == 200
    status = client.get("/settings/two-factor").get_data(as_text=True)
    assert "required for your role, so it stays on" in status
    assert 'action="/settings/two-factor/off"' not in status
    refused = client.post("/settings/two-factor/off", data={"off-proof": factories.PASSWORD})
    assert refused.status_code == 422 and accounts.has_second_factor(user)
    assert client.post("/logout").status_code in (302, 303)


def test_required_mode_asks_nothing_of_members(required_app: Flask) -> None:
    member = factories.user()
    client = required_app.test_client()
    _sign_in_with_password(client, member)
    assert client.get("/organizations/").status_code == 200
    assert "requires" not in client.get("/settings/two-factor").get_data(as_text=True)


def test_logout_stays_reachable_before_enrolment(required_app: Flask) -> None:
    client = required_app.test_client()
    _sign_in_with_password(client, factories.user(role=Role.ADMIN))
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/settings/").headers["Location"].startswith("/login")


def open_sessions(user: Any) -> list[Any]:
    from portal.models import UserSession

    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()


def test_an_admin_resets_a_lost_phone_audited_and_e_mailed(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user, _, _ = enrolled(login_as, clock, email="lost.phone@example.test")
    sessions.start(user)  # still signed in on the device that was lost, say
    db.session.commit()
    assert open_sessions(user)
    admin = factories.user(role=Role.ADMIN)
    login_as(admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "On since" in page and "10 recovery codes left" in page
    response = client.post(f"/admin/users/{user.id}/two-factor/reset")
    assert response.status_code == 303
    assert not accounts.has_second_factor(user)
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert open_sessions(user) == []
    assert open_sessions(admin)
    [reset] = events(audit.TWO_FACTOR_RESET)
    assert reset.actor_id == admin.id and reset.target_id == str(user.id)
    [mail] = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.kind == MailKind.TWO_FACTOR_RESET)
    ).all()
    assert mail.to_address == "lost.phone@example.test"
    written = rendering.write(mail)
    assert written.subject == "Your two-factor sign-in was reset"
    assert "/settings/two-factor" in written.text and "/settings/two-factor" in written.html
    client.post("/logout")
    assert password_step(client, user).headers["Location"] == "/"  # the password alone


def test_the_secret_is_never_shown_once_enrolled(
    login_as: Any, client: FlaskClient, clock: Any
) -> None:
    user = factories.user()
    login_as(user)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1)
    after = client.post("/settings/two-factor", data={"code": code_at(secret)})
    bodies = [after.get_data(as_text=True)]
    clock.shift(30)
    for path in ("/settings/two-factor", "/settings/", "/organizations/"):
        bodies.append(client.get(path).get_data(as_text=True))
    client.post("/logout")
    bodies.append(password_step(client, user, follow_redirects=True).get_data(as_text=True))
    bodies.append(client.post("/login/code", data={"code": "000000"}).get_data(as_text=True))
    admin = factories.user(role=Role.ADMIN)
    login_as(admin)
    bodies.append(client.get(f"/admin/users/{user.id}").get_data(as_text=True))
    bodies.append(client.get("/admin/audit").get_data(as_text=True))
    for body in bodies:
        assert secret not in body and totp.grouped(secret) not in body
        assert "otpauth://" not in body and '<svg role="img"' not in body


def test_rotating_keys_re_encrypts_the_secrets(
    app: Flask, login_as: Any, client: FlaskClient, clock: Any, runner: Any
) -> None:
    user, secret, _ = enrolled(login_as, clock)
    before = db.session.get(TwoFactor, user.id).secret_encrypted
    result = runner.invoke(args=["rotate-secrets"])
    assert "Re-encrypted 1 two-factor secret(s)." in result.output
    db.session.expire_all()
    after = db.session.get(TwoFactor, user.id).secret_encrypted
    assert after != before
    assert app.extensions["secret_box"].decrypt(after) == secret
