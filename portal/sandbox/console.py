"""The sandbox console: integrations, documents and their decisions, deliveries, signing keys."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.oneconnect import spec
from portal.sandbox.api import API_PREFIX, sandbox
from portal.sandbox.forms import (
    BusinessErrorForm,
    ClearFaultsForm,
    CreateIntegrationForm,
    DecisionForm,
    FaultForm,
    RevokeIntegrationForm,
    RotateKeyForm,
)
from portal.sandbox.state import CONSOLE_REVOCATION_REASON

bp = Blueprint("console", __name__)

RECENT = 50


@dataclass(frozen=True)
class CreatedIntegration:
    name: str
    integration_id: str
    secret: str


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page(CreateIntegrationForm())


@bp.post("/integrations")
def create_integration() -> ResponseReturnValue:
    form = CreateIntegrationForm()
    if not form.validate_on_submit():
        return _page(form), 422
    name = (form.name.data or "").strip()
    integration_id, secret = sandbox().create_integration(name)
    # Rendered in this answer only: the secret is neither stored in the session nor shown again.
    created = CreatedIntegration(name, integration_id, secret)
    return _page(CreateIntegrationForm(formdata=None), created=created)


@bp.post("/integrations/<integration_id>/revoke")
def revoke_integration(integration_id: str) -> ResponseReturnValue:
    if RevokeIntegrationForm().validate_on_submit():
        try:
            sandbox().revoke_integration(integration_id, CONSOLE_REVOCATION_REASON)
        except LookupError:
            abort(404)
        flash("Integration revoked; a Revocation event was sent.")
    return redirect(url_for(".index"))


@bp.post("/integrations/<integration_id>/business-error")
def set_business_error(integration_id: str) -> ResponseReturnValue:
    form = BusinessErrorForm()
    if form.validate_on_submit():
        try:
            sandbox().set_business_error(integration_id, form.code.data)
        except LookupError:
            abort(404)
        flash(f"The next import of this integration will answer {form.code.data}.")
    return redirect(url_for(".index"))


@bp.post("/documents/<document_id>/decision")
def decide(document_id: str) -> ResponseReturnValue:
    form = DecisionForm()
    if form.validate_on_submit() and (form.accept.data or form.refuse.data):
        accepted = bool(form.accept.data)
        try:
            sandbox().decide(document_id, accepted, None if accepted else form.reason.data)
        except LookupError:
            abort(404)
        flash(f"Document {'accepted' if accepted else 'refused'}; a DocumentStatus event was sent.")
    return redirect(url_for(".index"))


@bp.post("/signing-keys/rotate")
def rotate_signing_key() -> ResponseReturnValue:
    if RotateKeyForm().validate_on_submit():
        kid = sandbox().rotate_signing_key()
        flash(f"Webhooks are now signed with key {kid}.")
    return redirect(url_for(".index"))


@bp.post("/faults")
def schedule_fault() -> ResponseReturnValue:
    form = FaultForm()
    if form.validate_on_submit():
        seconds = float(form.seconds.data) if form.seconds.data is not None else 5.0
        sandbox().faults.schedule(form.kind.data, count=form.count.data, seconds=seconds)
        flash(f"Scheduled: {form.kind.data} for the next {form.count.data} call(s).")
    else:
        problems = [message for messages in form.errors.values() for message in messages]
        flash("The fault was not scheduled: " + "; ".join(problems))
    return redirect(url_for(".index", _anchor="faults"))


@bp.post("/faults/clear")
def clear_faults() -> ResponseReturnValue:
    if ClearFaultsForm().validate_on_submit():
        sandbox().faults.clear()
        flash("Every scheduled fault was cleared.")
    return redirect(url_for(".index", _anchor="faults"))


def _page(create_form: CreateIntegrationForm, *, created: CreatedIntegration | None = None) -> str:
    state = sandbox()
    return render_template(
        "sandbox/index.html",
        state=state,
        urls={
            "Token URL": url_for("public.token", _external=True),
            "API base": request.url_root.rstrip("/") + API_PREFIX,
            "JWKS URL": url_for("public.jwks", _external=True),
        },
        integrations=state.integrations(),
        documents=state.documents(limit=RECENT),
        deliveries=state.deliveries(limit=RECENT),
        signing_keys=state.signing_keys(),
        created=created,
        create_form=create_form,
        revoke_form=RevokeIntegrationForm(formdata=None),
        error_form=BusinessErrorForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        rotate_form=RotateKeyForm(formdata=None),
        fault_form=FaultForm(formdata=None),
        clear_faults_form=ClearFaultsForm(formdata=None),
        pending_faults=state.faults.pending(),
        reasons=spec.REVOCATION_REASONS,
    )
