"""The admin console. Every page answers 404 to other roles: it does not exist for them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import audit, notices, policy
from portal.admin import services, words
from portal.admin.forms import (
    AssignForm,
    AuditFilterForm,
    ConfirmForm,
    CreateUserForm,
    RoleForm,
    SecretForm,
)
from portal.admin.mail import mail_counts, register_mail
from portal.admin.queue import register_queue
from portal.auth import two_factor
from portal.auth.forms import EmptyForm
from portal.catalogue import gettext as _
from portal.deposits import delivery as deposit_delivery
from portal.extensions import db
from portal.models import (
    MailStatus,
    Organization,
    ProcessingOutcome,
    Role,
    StaffAssignment,
    User,
    WebhookEvent,
    utcnow,
)
from portal.observability import readiness
from portal.organizations import services as organizations
from portal.web import redirect_to, render

bp = Blueprint("admin", __name__, url_prefix="/admin")
register_mail(bp)
register_queue(bp)
PAGE_SIZE = 50


@bp.before_request
@login_required
def admins_only() -> None:
    policy.require_admin(current_user)


@bp.context_processor
def stored_codes_in_words() -> dict[str, object]:
    """The admin pages word stored codes (outcomes, audit actions and details) when read."""
    return {
        "action_label": audit.action_label,
        "audit_details": words.audit_details,
        "outcome_label": words.outcome_label,
        "target_label": words.target_label,
    }


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _organization(organization_id: int) -> Organization:
    return policy.organization_for(current_user, organization_id)


def _upstream() -> dict[str, object]:
    return {
        "client": current_app.extensions["oneconnect"],
        "secret_box": current_app.extensions["secret_box"],
    }


@bp.get("/")
def index() -> ResponseReturnValue:
    def count(model: type) -> int:
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)

    failing = db.session.scalar(
        select(func.count())
        .select_from(WebhookEvent)
        .where(WebhookEvent.outcome.in_([ProcessingOutcome.ERROR, ProcessingOutcome.PENDING]))
    )
    return render(
        "admin/index.html",
        users=count(User),
        organizations=count(Organization),
        assignments=count(StaffAssignment),
        failing_webhooks=failing or 0,
        queue=deposit_delivery.queue_stats(),
        send_now_form=EmptyForm(),
        senders=readiness.recent_senders(),
        alive_since=utcnow() - readiness.ALIVE_WITHIN,
        mail=mail_counts(),
        mail_statuses=MailStatus,
    )


@bp.get("/users")
def users() -> ResponseReturnValue:
    listing = db.session.scalars(select(User).order_by(func.lower(User.email))).all()
    return render("admin/users.html", users=listing, form=CreateUserForm())


@bp.post("/users")
def create_user() -> ResponseReturnValue:
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user, generated = services.create_user(
                form.email.data, Role(form.role.data), form.password.data, actor=current_user
            )
        except services.AdminActionRefused as refusal:
            form.email.errors = [*form.email.errors, str(refusal)]
        else:
            if generated is None:
                flash(_("%(email)s can log in now.", email=user.email), "success")
                return redirect_to(url_for("admin.user", user_id=user.id))
            # Shown in this answer only: a password never travels in the session cookie.
            return render("admin/password.html", user=user, password=generated)
    listing = db.session.scalars(select(User).order_by(func.lower(User.email))).all()
    return render("admin/users.html", users=listing, form=form), 422


def _user_page(user: User, role_form: RoleForm | None = None, status: int = 200):
    if role_form is None:
        role_form = RoleForm()
        role_form.role.data = user.role.value
    assignments = db.session.scalars(
        select(StaffAssignment).where(StaffAssignment.user_id == user.id)
    ).all()
    return render(
        "admin/user.html",
        user=user,
        role_form=role_form,
        button=EmptyForm(),
        assignments=assignments,
        two_factor=two_factor.state(user),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int) -> ResponseReturnValue:
    return _user_page(_user(user_id))


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(user, Role(form.role.data), actor=current_user)
        except services.AdminActionRefused as refusal:
            form.role.errors = [*form.role.errors, str(refusal)]
        else:
            flash(
                _("%(email)s is now %(role)s.", email=user.email, role=user.role.label), "success"
            )
            return redirect_to(url_for("admin.user", user_id=user.id))
    return _user_page(user, form, 422)


@bp.get("/users/<int:user_id>/deactivate")
def confirm_deactivate(user_id: int) -> ResponseReturnValue:
    return render("admin/deactivate.html", user=_user(user_id), form=ConfirmForm())


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.set_active(user, False, actor=current_user)
        except services.AdminActionRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(_("%(email)s is deactivated.", email=user.email), "success")
            return redirect_to(url_for("admin.user", user_id=user.id))
    return render("admin/deactivate.html", user=user, form=form), 422


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_active(user, True, actor=current_user)
    flash(_("%(email)s can log in again.", email=user.email), "success")
    return redirect_to(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    password = services.reset_password(user, actor=current_user)
    return render("admin/password.html", user=user, password=password)


@bp.post("/users/<int:user_id>/two-factor/reset")
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if two_factor.reset_by_admin(user, actor=current_user):
        flash(
            _(
                "Two-factor sign-in of %(email)s is reset and their sessions are ended: they "
                "sign in with their password, then set it up again. They are told by e-mail.",
                email=user.email,
            ),
            "success",
        )
    return redirect_to(url_for("admin.user", user_id=user.id))


@bp.get("/organizations")
def organizations_index() -> ResponseReturnValue:
    listing = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return render("admin/organizations.html", organizations=listing)


def _organization_page(
    organization: Organization, secret_form: SecretForm | None = None, status: int = 200
):
    staff = db.session.scalars(
        select(User)
        .join(StaffAssignment, StaffAssignment.user_id == User.id)
        .where(StaffAssignment.organization_id == organization.id)
        .order_by(User.email)
    ).all()
    return render(
        "admin/organization.html",
        organization=organization,
        staff=staff,
        button=EmptyForm(),
        secret_form=secret_form or SecretForm(),
    ), status


@bp.get("/organizations/<int:organization_id>")
def organization(organization_id: int) -> ResponseReturnValue:
    return _organization_page(_organization(organization_id))


@bp.post("/organizations/<int:organization_id>/refresh")
def refresh(organization_id: int) -> ResponseReturnValue:
    organization = _organization(organization_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        active = organizations.refresh_status(organization, actor=current_user, **_upstream())
    except organizations.OrganizationActionRefused as refusal:
        flash(str(refusal), "error")
    else:
        if active:
            flash(_("OneConnect reports the integration active."), "success")
        else:
            flash(_("OneConnect reports the integration revoked."), "warning")
    return redirect_to(url_for("admin.organization", organization_id=organization.id))


@bp.get("/organizations/<int:organization_id>/revoke")
def confirm_revoke(organization_id: int) -> ResponseReturnValue:
    return render(
        "admin/revoke.html", organization=_organization(organization_id), form=ConfirmForm()
    )


@bp.post("/organizations/<int:organization_id>/revoke")
def revoke(organization_id: int) -> ResponseReturnValue:
    organization = _organization(organization_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            organizations.disconnect_organization(
                organization,
                actor=current_user,
                reason=notices.ADMIN_REVOCATION_REASON,
                **_upstream(),
            )
        except organizations.OrganizationActionRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(_("The integration of %(name)s is revoked.", name=organization.name), "success")
            return redirect_to(url_for("admin.organization", organization_id=organization.id))
    return render("admin/revoke.html", organization=organization, form=form), 422


@bp.post("/organizations/<int:organization_id>/secret")
def replace_secret(organization_id: int) -> ResponseReturnValue:
    organization = _organization(organization_id)
    form = SecretForm()
    if form.validate_on_submit():
        try:
            organizations.replace_secret(
                organization, form.integration_secret.data, actor=current_user, **_upstream()
            )
        except organizations.ConnectionRefused as refusal:
            form.integration_secret.errors = [*form.integration_secret.errors, str(refusal)]
        else:
            flash(_("The new secret is checked and stored."), "success")
            return redirect_to(url_for("admin.organization", organization_id=organization.id))
    return _organization_page(organization, form, 422)


def _assign_form() -> AssignForm:
    form = AssignForm()
    form.staff_id.choices = [
        (user.id, user.email)
        for user in db.session.scalars(
            select(User).where(User.role == Role.STAFF).order_by(User.email)
        )
    ]
    form.organization_id.choices = [
        (org.id, org.name)
        for org in db.session.scalars(select(Organization).order_by(Organization.name))
    ]
    return form


def _staff_page(form: AssignForm, status: int = 200):
    assignments = db.session.scalars(
        select(StaffAssignment)
        .join(User, StaffAssignment.user_id == User.id)
        .join(Organization, StaffAssignment.organization_id == Organization.id)
        .order_by(User.email, Organization.name)
    ).all()
    return render(
        "admin/staff.html", form=form, assignments=assignments, button=EmptyForm()
    ), status


@bp.get("/staff")
def staff() -> ResponseReturnValue:
    return _staff_page(_assign_form())


@bp.post("/staff")
def assign() -> ResponseReturnValue:
    form = _assign_form()
    if form.validate_on_submit():
        staff_user = _user(form.staff_id.data)
        organization = _organization(form.organization_id.data)
        try:
            services.assign(staff_user, organization, actor=current_user)
        except services.AdminActionRefused as refusal:
            form.form_errors.append(str(refusal))
        else:
            flash(
                _(
                    "%(email)s now reviews %(name)s.",
                    email=staff_user.email,
                    name=organization.name,
                ),
                "success",
            )
            return redirect_to(url_for("admin.staff"))
    return _staff_page(form, 422)


@bp.post("/staff/<int:user_id>/<int:organization_id>/remove")
def unassign(user_id: int, organization_id: int) -> ResponseReturnValue:
    assignment = db.session.get(StaffAssignment, (user_id, organization_id)) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.unassign(assignment, actor=current_user)
    flash(_("The assignment is removed."), "success")
    return redirect_to(url_for("admin.staff"))


@bp.get("/webhooks")
def webhooks() -> ResponseReturnValue:
    page = services.webhook_page(after=request.args.get("after"), size=PAGE_SIZE)
    return render("admin/webhooks.html", page=page)


@bp.get("/webhooks/<int:event_id>")
def webhook(event_id: int) -> ResponseReturnValue:
    event = db.session.get(WebhookEvent, event_id) or abort(404)
    return render("admin/webhook.html", event=event, button=EmptyForm())


@bp.post("/webhooks/<int:event_id>/reprocess")
def reprocess(event_id: int) -> ResponseReturnValue:
    event = db.session.get(WebhookEvent, event_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.reprocess(event, actor=current_user)
    flash(
        _("Event processed again: %(outcome)s.", outcome=words.outcome_label(event.outcome)),
        "info",
    )
    return redirect_to(url_for("admin.webhook", event_id=event.id))


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(formdata=request.args)
    # The options show the actions in words; their values stay the stored codes.
    form.action.choices = [("", _("All actions")), *audit.action_choices()]
    action = form.action.data if form.action.data in audit.ACTIONS else None
    page = services.audit_page(
        action=action,
        actor=(form.actor.data or "").strip() or None,
        after=request.args.get("after"),
        size=PAGE_SIZE,
    )
    query = {k: v for k, v in request.args.items() if k in ("action", "actor") and v}
    return render("admin/audit.html", block="results", form=form, page=page, query=query)
