"""CSRF is enforced on every form; only the webhook (signed by OneConnect) is exempt."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db
from tests import factories
from tests.conftest import app_config


@pytest.fixture
def protected_client(database_url: str, tmp_path: Path, sandbox) -> Iterator[FlaskClient]:
    app = create_app(app_config(database_url, tmp_path, sandbox, WTF_CSRF_ENABLED=True))
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/register",
        "/logout",
        "/organizations/",
        "/organizations/1/deposits",
        "/organizations/1/deposits/lines",
        "/deposits/lines/remove",
        "/deposits/1/retry",
        "/organizations/1/drafts",
        "/organizations/1/drafts/join",
        "/language",
    ],
)
def test_every_form_post_without_a_token_is_refused(
    protected_client: FlaskClient, path: str
) -> None:
    response = protected_client.post(path, data={"email": "a@example.test", "password": "x" * 12})
    assert response.status_code == 400
    assert "The request could not be understood" in response.get_data(as_text=True)


def test_the_login_form_carries_a_token_that_is_accepted(protected_client: FlaskClient) -> None:
    with protected_client.application.app_context():
        email = factories.user().email
    page = protected_client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = protected_client.post(
        "/login", data={"csrf_token": token, "email": email, "password": factories.PASSWORD}
    )
    assert response.status_code == 303


def test_several_files_without_script_go_through_csrf_under_the_forms_own_cap(
    protected_client: FlaskClient, sandbox
) -> None:
    """CSRF reads the body before the view runs: the larger cap must already apply then."""
    import io

    from tests.app.test_deposits import post_multipart
    from tests.support import invoices

    app = protected_client.application
    with app.app_context():
        integration_id, secret = sandbox.state.create_integration("Lot")
        member = factories.user(email="lot@example.test")
        organization = factories.organization(member, integration_id=integration_id, secret=secret)
        organization_id, email = organization.id, member.email
    login_page = protected_client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = protected_client.post(
        "/login", data={"csrf_token": token, "email": email, "password": factories.PASSWORD}
    )
    assert signed_in.status_code == 303
    files = [(io.BytesIO(invoices.pdf(padding=4_000_000)), f"scan-{n}.pdf") for n in range(4)]
    assert sum(len(f[0].getvalue()) for f in files) > app.config["MAX_CONTENT_LENGTH"]
    response = post_multipart(
        protected_client,
        f"/organizations/{organization_id}/deposits",
        {"csrf_token": token, "kind": "purchase", "invoice_file": files},
    )
    assert response.status_code == 303, response.status_code
