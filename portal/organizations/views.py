"""Members' organizations: the list, and connecting a new one."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import policy
from portal.extensions import db
from portal.models import Organization
from portal.organizations import services
from portal.organizations.forms import ConnectForm
from portal.web import redirect_to, render

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    query = policy.organizations_visible_to(current_user).order_by(Organization.name)
    organizations = db.session.scalars(query).all()
    return render(
        "organizations/index.html",
        organizations=organizations,
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
