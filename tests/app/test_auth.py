import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User
from tests import factories


def test_register_creates_a_member_with_a_hashed_password_and_signs_in(client: FlaskClient) -> None:
    response = client.post(
        "/register", data={"email": "Anne@Example.test", "password": "a long enough password"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/organizations/")
    user = db.session.scalars(select(User)).one()
    assert user.email == "Anne@Example.test"
    assert user.role is Role.MEMBER
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in user.password_hash
    page = client.get("/organizations/").get_data(as_text=True)
    assert "Anne@Example.test" in page


def test_the_sign_in_at_registration_is_the_last_sign_in(client: FlaskClient) -> None:
    client.post(
        "/register", data={"email": "new@example.test", "password": "a long enough password"}
    )
    user = db.session.scalars(select(User)).one()
    assert user.last_login_at is not None
    assert user.last_login_at >= user.created_at


def test_an_email_is_taken_whatever_its_case(client: FlaskClient) -> None:
    factories.user(email="anne@example.test")
    response = client.post(
        "/register", data={"email": "ANNE@example.test", "password": "a long enough password"}
    )
    assert response.status_code == 422
    assert "An account already exists for this e-mail" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(User)).all()) == 1


def test_a_short_password_is_refused_with_the_rule(client: FlaskClient) -> None:
    response = client.post("/register", data={"email": "b@example.test", "password": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert db.session.scalars(select(User)).first() is None


def test_login_page_has_the_contract_labels_and_a_way_to_register(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'value="Log in"' in page
    assert 'href="/register"' in page


def test_login_with_a_wrong_password_says_so_and_does_not_sign_in(client: FlaskClient) -> None:
    user = factories.user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 422
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/organizations/").status_code == 303


def test_login_matches_the_email_case_insensitively(client: FlaskClient) -> None:
    user = factories.user(email="mixed@example.test")
    response = client.post(
        "/login", data={"email": "MIXED@example.test", "password": factories.PASSWORD}
    )
    assert response.status_code == 303
    assert client.get("/organizations/").status_code == 200
    assert db.session.get(User, user.id).last_login_at is not None


def test_a_deactivated_user_cannot_log_in(client: FlaskClient) -> None:
    user = factories.user(active=False)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 422


def test_login_follows_a_local_next_but_never_another_host(client: FlaskClient) -> None:
    user = factories.user()
    response = client.post(
        "/login?next=/organizations/new", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/organizations/new"
    client.post("/logout")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(
            f"/login?next={target}", data={"email": user.email, "password": factories.PASSWORD}
        )
        assert response.headers["Location"] == "/"
        client.post("/logout")


def test_pages_require_a_login_and_htmx_requests_get_a_full_page_redirect(
    client: FlaskClient,
) -> None:
    response = client.get("/organizations/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    response = client.get("/organizations/", headers={"HX-Request": "true"})
    assert "/login" in response.headers["HX-Location"]


def test_logout_signs_out(login_as, client: FlaskClient) -> None:
    login_as(factories.user())
    assert client.get("/organizations/").status_code == 200
    client.post("/logout")
    assert client.get("/organizations/").status_code == 303


def test_create_user_command_creates_a_user_who_can_log_in(
    app: Flask, runner, client: FlaskClient
) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "staff@example.test",
            "--role",
            "staff",
            "--password",
            "staff password 1",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert user.role is Role.STAFF
    response = client.post(
        "/login", data={"email": "staff@example.test", "password": "staff password 1"}
    )
    assert response.status_code == 303


def test_create_user_command_refuses_a_taken_email_in_one_line(runner) -> None:
    factories.user(email="taken@example.test")
    result = runner.invoke(
        args=[
            "create-user",
            "TAKEN@example.test",
            "--role",
            "member",
            "--password",
            "whatever 12345",
        ]
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert result.output.strip().count("\n") == 0


def test_create_user_command_prompts_for_the_password(runner) -> None:
    result = runner.invoke(
        args=["create-user", "p@example.test", "--role", "admin"],
        input="prompted pass 1\nprompted pass 1\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User)).one().role is Role.ADMIN


def test_create_user_command_refuses_a_bad_role_or_email_in_one_line(runner) -> None:
    for args in (
        ["create-user", "ok@example.test", "--role", "boss", "--password", "whatever 12345"],
        ["create-user", "not-an-email", "--role", "member", "--password", "whatever 12345"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert result.output.strip().count("\n") == 0
        assert result.output.startswith("Error: ")
    assert db.session.scalars(select(User)).first() is None


def test_an_expired_session_on_a_polling_request_returns_to_the_page_after_login(
    client: FlaskClient,
) -> None:
    response = client.get(
        "/deposits/5/row?seen=sent",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://localhost/organizations/3/deposits?status=sent",
        },
    )
    location = response.headers["HX-Location"]
    assert "next=/organizations/3/deposits?status%3Dsent" in location
    assert "row" not in location


def test_behind_a_trusted_proxy_the_audit_log_records_the_clients_address(
    database_url, tmp_path, sandbox
) -> None:
    from portal import create_app
    from portal.models import AuditEvent
    from tests.conftest import app_config

    proxied = create_app(app_config(database_url, tmp_path, sandbox, PROXY_HOPS=1))
    with proxied.app_context():
        user = factories.user(email="behind@example.test")
        client = proxied.test_client()
        client.post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
        assert event.ip_address == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client: FlaskClient) -> None:
    from portal.models import AuditEvent

    user = factories.user(email="direct@example.test")
    client.post(
        "/login",
        data={"email": user.email, "password": factories.PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
    assert event.ip_address == "198.51.100.9"


def test_demo_admin_is_created_once_and_its_login_printed_each_start(
    runner, client: FlaskClient
) -> None:
    first = runner.invoke(args=["demo-admin"])
    second = runner.invoke(args=["demo-admin"])
    assert first.exit_code == 0 and first.output == second.output
    email, password = re.fullmatch(r"Demo admin: (\S+) / password: (\S+)\n", first.output).groups()
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN)).all()
    assert [admin.email for admin in admins] == [email]
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303


def test_a_common_password_is_refused_at_registration_and_nothing_is_created(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/register", data={"email": "anne@example.test", "password": "password123"}
    )
    assert response.status_code == 422
    assert "among the first an attacker would try" in response.get_data(as_text=True)
    assert db.session.scalars(select(User)).all() == []


def test_the_command_line_refuses_a_common_password_too(app: Flask, runner) -> None:
    result = runner.invoke(
        args=["create-user", "p@example.test", "--role", "staff", "--password", "azertyuiop"]
    )
    assert result.exit_code != 0 and "attacker would try" in result.output
    assert db.session.scalars(select(User)).all() == []
