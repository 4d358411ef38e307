"""Members' organizations: the list, switching between them, connecting, members, disconnecting."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from portal import notices, policy
from portal.catalogue import gettext as _
from portal.extensions import db
from portal.models import Organization
from portal.organizations import services
from portal.organizations.forms import AddMemberForm, ConnectForm, DisconnectForm, SwitchForm
from portal.web import redirect_to, render

bp = Blueprint("organizations", __name__, url_prefix="/organizations")

CURRENT = "organization_id"  # the session key remembering the organization a member works for


def _switch_form(organizations: list[Organization]) -> SwitchForm:
    form = SwitchForm()
    form.organization_id.choices = [(org.id, org.name) for org in organizations]
    if not form.is_submitted():
        form.organization_id.data = session.get(CURRENT)
    return form


@bp.app_context_processor
def organization_switcher() -> dict[str, Any]:
    """The nav's switcher, for members who work for more than one organization."""
    if not current_user.is_authenticated or not current_user.is_member:
        return {}
    try:
        organizations = list(db.session.scalars(policy.organizations_to_switch_to(current_user)))
    except SQLAlchemyError:  # an error page is being drawn because the database failed
        db.session.rollback()
        return {}
    if len(organizations) < 2:
        return {}
    return {"switch_form": _switch_form(organizations)}


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    query = policy.organizations_visible_to(current_user).order_by(Organization.name)
    organizations = db.session.scalars(query).all()
    return render(
        "organizations/index.html",
        organizations=organizations,
        current_id=session.get(CURRENT),
        can_connect=policy.can_connect_organizations(current_user),
    )


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    if not policy.can_connect_organizations(current_user):
        abort(403)
    return render("organizations/new.html", form=ConnectForm())


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    if not policy.can_connect_organizations(current_user):
        abort(403)
    form = ConnectForm()
    if form.validate_on_submit():
        try:
            organization = services.connect_organization(
                form.name.data,
                form.integration_id.data,
                form.integration_secret.data,
                actor=current_user,
                client=current_app.extensions["oneconnect"],
                secret_box=current_app.extensions["secret_box"],
            )
        except services.ConnectionRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(
                _("%(name)s is connected. You can deposit invoices now.", name=organization.name),
                "success",
            )
            return redirect_to(url_for("deposits.index", organization_id=organization.id))
    return render("organizations/new.html", form=form), 422


@bp.post("/current")
@login_required
def switch() -> ResponseReturnValue:
    organizations = list(db.session.scalars(policy.organizations_to_switch_to(current_user)))
    form = _switch_form(organizations)
    if not form.validate_on_submit():
        abort(404)  # not one of theirs: the same answer as for any foreign organization
    organization = policy.organization_for(current_user, form.organization_id.data)
    session[CURRENT] = organization.id
    flash(_("You are now working for %(name)s.", name=organization.name), "info")
    return redirect_to(url_for("deposits.index", organization_id=organization.id))


@bp.get("/<int:organization_id>/members")
@login_required
def members(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_for(current_user, organization_id)
    return render(
        "organizations/members.html",
        organization=organization,
        form=AddMemberForm(),
        is_owner=policy.is_owner(current_user, organization),
    )


@bp.post("/<int:organization_id>/members")
@login_required
def add_member(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_manage(current_user, organization_id)
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            services.add_member(organization, form.email.data, actor=current_user)
        except services.OrganizationActionRefused as refusal:
            form.email.errors = [*form.email.errors, str(refusal)]
        else:
            flash(
                _(
                    "%(email)s can now deposit for %(name)s.",
                    email=form.email.data,
                    name=organization.name,
                ),
                "success",
            )
            return redirect_to(url_for("organizations.members", organization_id=organization.id))
    return render(
        "organizations/members.html", organization=organization, form=form, is_owner=True
    ), 422


@bp.get("/<int:organization_id>/disconnect")
@login_required
def confirm_disconnect(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_manage(current_user, organization_id)
    return render("organizations/disconnect.html", organization=organization, form=DisconnectForm())


@bp.post("/<int:organization_id>/disconnect")
@login_required
def disconnect(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_manage(current_user, organization_id)
    form = DisconnectForm()
    if form.validate_on_submit():
        try:
            services.disconnect_organization(
                organization,
                actor=current_user,
                client=current_app.extensions["oneconnect"],
                secret_box=current_app.extensions["secret_box"],
                reason=notices.member_revocation_reason(current_user.email),
            )
        except services.OrganizationActionRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(_("%(name)s is disconnected.", name=organization.name), "success")
            return redirect_to(url_for("organizations.index"))
    return render("organizations/disconnect.html", organization=organization, form=form), 422
