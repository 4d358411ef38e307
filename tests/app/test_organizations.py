from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Membership, MembershipRole, Organization, Role
from tests import factories


def connect(
    client: FlaskClient, integration_id: str, secret: str, name: str = "Boulangerie Martin"
):
    return client.post(
        "/organizations/",
        data={"name": name, "integration_id": integration_id, "integration_secret": secret},
    )


def test_connecting_checks_upstream_then_saves_the_secret_encrypted(
    app: Flask, client: FlaskClient, login_as, sandbox
) -> None:
    member = factories.user()
    login_as(member)
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    response = connect(client, integration_id, secret)
    assert response.status_code == 303
    organization = db.session.scalars(select(Organization)).one()
    assert organization.integration_id == integration_id
    assert secret.encode() not in organization.integration_secret_encrypted
    assert app.extensions["secret_box"].decrypt(organization.integration_secret_encrypted) == secret
    membership = db.session.get(Membership, (member.id, organization.id))
    assert membership.role is MembershipRole.OWNER
    listing = client.get("/organizations/").get_data(as_text=True)
    assert "Boulangerie Martin" in listing and "Active" in listing
    assert secret not in listing


def test_a_wrong_secret_gets_a_clear_message_and_saves_nothing(
    client: FlaskClient, login_as, sandbox
) -> None:
    login_as(factories.user())
    integration_id, _ = sandbox.state.create_integration("Boulangerie")
    response = connect(client, integration_id, "wrong-secret")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "does not recognise this Integration ID and secret" in page
    assert "wrong-secret" not in page
    assert db.session.scalars(select(Organization)).first() is None


def test_an_unknown_integration_gets_a_clear_message(
    client: FlaskClient, login_as, sandbox
) -> None:
    login_as(factories.user())
    response = connect(client, "7d0b3d2e-1111-4222-8333-444455556666", "anything")
    assert response.status_code == 422
    assert "does not recognise" in response.get_data(as_text=True)


def test_a_revoked_integration_is_refused_with_its_reason(
    client: FlaskClient, login_as, sandbox
) -> None:
    login_as(factories.user())
    integration_id, secret = sandbox.state.create_integration("Closed Co")
    sandbox.state.revoke_integration(integration_id, "SMB Closed")
    response = connect(client, integration_id, secret)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "revoked" in page and "the company was closed" in page
    assert db.session.scalars(select(Organization)).first() is None


def test_an_integration_id_that_is_not_a_uuid_is_refused_before_calling_upstream(
    client: FlaskClient, login_as, sandbox
) -> None:
    login_as(factories.user())
    tokens_before = sandbox.state.tokens_issued
    response = connect(client, "not-an-id", "secret")
    assert response.status_code == 422
    assert "8-4-4-4-12" in response.get_data(as_text=True)
    assert sandbox.state.tokens_issued == tokens_before


def test_an_integration_already_connected_is_refused(
    client: FlaskClient, login_as, sandbox
) -> None:
    integration_id, secret = sandbox.state.create_integration("Shared")
    factories.organization(factories.user(), integration_id=integration_id, secret=secret)
    login_as(factories.user())
    response = connect(client, integration_id, secret)
    assert response.status_code == 422
    assert "already connected" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Organization)).all()) == 1


def test_the_upstream_being_down_saves_nothing_and_says_to_retry(
    client: FlaskClient, login_as, sandbox
) -> None:
    login_as(factories.user())
    integration_id, secret = sandbox.state.create_integration("Co")
    sandbox.stop()
    response = connect(client, integration_id, secret)
    assert response.status_code == 422
    assert "cannot be reached" in response.get_data(as_text=True)
    assert db.session.scalars(select(Organization)).first() is None


def test_members_see_only_their_own_organizations(client: FlaskClient, login_as) -> None:
    mine = factories.organization(member := factories.user(), name="Mine SARL")
    factories.organization(factories.user(), name="Theirs SAS")
    login_as(member)
    page = client.get("/organizations/").get_data(as_text=True)
    assert "Mine SARL" in page and "Theirs SAS" not in page
    assert mine.id


def test_staff_cannot_connect_organizations(client: FlaskClient, login_as) -> None:
    login_as(factories.user(role=Role.STAFF))
    assert client.get("/organizations/new").status_code == 403
    assert client.post("/organizations/", data={}).status_code == 403
