"""Who may see or do what: the scoped queries every view goes through.

Members see the organizations they belong to, staff the ones assigned to them (read-only),
admins all. Anything outside a user's scope answers 404, so its existence is not revealed.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from portal.extensions import db
from portal.models import (
    Deposit,
    Membership,
    MembershipRole,
    Organization,
    Role,
    StaffAssignment,
    User,
)


def _visible_organization_ids(user: User) -> Select[tuple[int]] | None:
    """A subquery of the organization ids `user` may see, or None when it sees all."""
    if user.role is Role.ADMIN:
        return None
    if user.role is Role.STAFF:
        return select(StaffAssignment.organization_id).where(StaffAssignment.user_id == user.id)
    return select(Membership.organization_id).where(Membership.user_id == user.id)


def organizations_visible_to(user: User) -> Select[tuple[Organization]]:
    query = select(Organization)
    visible = _visible_organization_ids(user)
    if visible is not None:
        query = query.where(Organization.id.in_(visible))
    return query


def deposits_visible_to(user: User) -> Select[tuple[Deposit]]:
    query = select(Deposit)
    visible = _visible_organization_ids(user)
    if visible is not None:
        query = query.where(Deposit.organization_id.in_(visible))
    return query


def organization_for(user: User, organization_id: int) -> Organization:
    """The organization if `user` may see it; 404 otherwise."""
    query = organizations_visible_to(user).where(Organization.id == organization_id)
    return db.session.scalars(query).first() or abort(404)


def deposit_for(user: User, deposit_id: int) -> Deposit:
    """The deposit if `user` may see its organization; 404 otherwise."""
    query = deposits_visible_to(user).where(Deposit.id == deposit_id)
    return db.session.scalars(query).first() or abort(404)


def membership(user: User, organization: Organization) -> Membership | None:
    return db.session.get(Membership, (user.id, organization.id))


def can_deposit(user: User, organization: Organization) -> bool:
    """Only the organization's own members deposit; staff review, admins administer."""
    return user.role is Role.MEMBER and membership(user, organization) is not None


def organization_to_deposit_for(user: User, organization_id: int) -> Organization:
    """The organization `user` deposits for; 404 when it is not theirs, 403 for read-only roles."""
    organization = organization_for(user, organization_id)
    if not can_deposit(user, organization):
        abort(403)
    return organization


def deposit_to_act_on(user: User, deposit_id: int) -> Deposit:
    """A deposit its organization's member may act on (retry); read-only roles get 403."""
    deposit = deposit_for(user, deposit_id)
    if not can_deposit(user, deposit.organization):
        abort(403)
    return deposit


def can_connect_organizations(user: User) -> bool:
    return user.role is Role.MEMBER


def is_owner(user: User, organization: Organization) -> bool:
    found = membership(user, organization)
    return found is not None and found.role is MembershipRole.OWNER


def can_review(user: User) -> bool:
    """Staff review the deposits of their organizations; admins may look over their shoulder."""
    return user.role in (Role.STAFF, Role.ADMIN)


def require_reviewer(user: User) -> None:
    """The review pages do not exist for members: 404, as for anything outside their scope."""
    if not can_review(user):
        abort(404)


def require_admin(user: User) -> None:
    """The admin console does not exist for other roles: 404, not 403, so it stays unknown."""
    if user.role is not Role.ADMIN:
        abort(404)


def organization_to_manage(user: User, organization_id: int) -> Organization:
    """An organization its owner manages (members, disconnect); 404 when foreign, 403 otherwise."""
    organization = organization_for(user, organization_id)
    if user.role is not Role.MEMBER or not is_owner(user, organization):
        abort(403)
    return organization


def organizations_to_switch_to(user: User) -> Select[tuple[Organization]]:
    """The organizations a member works for, in the order the switcher lists them."""
    return (
        select(Organization)
        .join(Membership)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name, Organization.id)
    )
