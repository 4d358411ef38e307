"""Members' side: switching organizations, an owner adding colleagues, disconnecting."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, Membership, MembershipRole, OrganizationStatus, Role
from tests import factories


def test_a_member_of_several_organizations_switches_between_them(
    client: FlaskClient, login_as
) -> None:
    member = factories.user()
    first = factories.organization(member, name="Atelier Un")
    second = factories.organization(member, name="Atelier Deux")
    login_as(member)
    page = client.get("/organizations/").get_data(as_text=True)
    assert 'action="/organizations/current"' in page
    assert "Atelier Un" in page and "Atelier Deux" in page
    response = client.post("/organizations/current", data={"organization_id": second.id})
    assert response.headers["Location"].endswith(f"/organizations/{second.id}/deposits")
    listing = client.get("/organizations/").get_data(as_text=True)
    assert 'Atelier Deux <small class="current-org">(current)</small>' in listing
    assert f'<option selected value="{second.id}">' in listing
    assert first.id != second.id


def test_a_member_cannot_switch_to_a_foreign_organization(client: FlaskClient, login_as) -> None:
    member = factories.user()
    factories.organization(member)
    factories.organization(member)
    foreign = factories.organization(factories.user())
    login_as(member)
    assert (
        client.post("/organizations/current", data={"organization_id": foreign.id}).status_code
        == 404
    )


def test_one_organization_needs_no_switcher(client: FlaskClient, login_as) -> None:
    member = factories.user()
    factories.organization(member)
    login_as(member)
    assert "/organizations/current" not in client.get("/organizations/").get_data(as_text=True)


def test_an_owner_adds_an_existing_member_by_email(client: FlaskClient, login_as) -> None:
    owner = factories.user()
    colleague = factories.user("colleague@example.test")
    organization = factories.organization(owner, name="Boulangerie Martin")
    login_as(owner)
    client.post(
        f"/organizations/{organization.id}/members", data={"email": "Colleague@example.test"}
    )
    membership = db.session.get(Membership, (colleague.id, organization.id))
    assert membership is not None and membership.role is MembershipRole.MEMBER
    page = client.get(f"/organizations/{organization.id}/members").get_data(as_text=True)
    assert "colleague@example.test" in page
    [entry] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == audit.MEMBER_ADDED))
    assert entry.organization_id == organization.id and entry.actor_id == owner.id
    login_as(colleague)
    assert client.get(f"/organizations/{organization.id}/deposits").status_code == 200


def test_adding_an_unknown_or_staff_account_is_refused(client: FlaskClient, login_as) -> None:
    owner = factories.user()
    factories.user("reviewer@example.test", role=Role.STAFF)
    organization = factories.organization(owner)
    login_as(owner)
    for email in ("nobody@example.test", "reviewer@example.test"):
        response = client.post(f"/organizations/{organization.id}/members", data={"email": email})
        assert response.status_code == 422
        assert "No member account uses this e-mail" in response.get_data(as_text=True)
    assert len(organization.memberships) == 1


def test_a_plain_member_cannot_add_members(client: FlaskClient, login_as) -> None:
    owner = factories.user()
    plain = factories.user()
    organization = factories.organization(owner)
    db.session.add(Membership(user=plain, organization=organization))
    db.session.commit()
    login_as(plain)
    page = client.get(f"/organizations/{organization.id}/members").get_data(as_text=True)
    assert "Add a member" not in page
    response = client.post(f"/organizations/{organization.id}/members", data={"email": owner.email})
    assert response.status_code == 403


def test_disconnecting_needs_confirmation_then_revokes_upstream(
    client: FlaskClient, login_as, sandbox
) -> None:
    owner = factories.user()
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    organization = factories.organization(owner, integration_id=integration_id, secret=secret)
    login_as(owner)
    page = client.get(f"/organizations/{organization.id}/disconnect").get_data(as_text=True)
    assert "The portal will ask OneConnect to revoke this integration" in page
    refused = client.post(f"/organizations/{organization.id}/disconnect", data={})
    assert refused.status_code == 422
    assert "Tick the box to confirm." in refused.get_data(as_text=True)
    assert all(i.active for i in sandbox.state.integrations())
    client.post(f"/organizations/{organization.id}/disconnect", data={"confirm": "y"})
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.REVOKED
    [upstream] = [i for i in sandbox.state.integrations() if i.id == integration_id]
    assert not upstream.active
    [entry] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.ORGANIZATION_REVOKED)
    )
    assert entry.actor_id == owner.id


def test_connecting_is_audited(client: FlaskClient, login_as, sandbox) -> None:
    member = factories.user()
    login_as(member)
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    client.post(
        "/organizations/",
        data={
            "name": "Boulangerie",
            "integration_id": integration_id,
            "integration_secret": secret,
        },
    )
    [entry] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.ORGANIZATION_CONNECTED)
    )
    assert entry.actor_id == member.id and entry.detail["integration_id"] == integration_id
    assert secret not in str(entry.detail)
