"""Depositing invoices, the import history and each deposit's story."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import policy
from portal.auth.forms import EmptyForm
from portal.deposits import delivery, services
from portal.deposits.editor import register_editor
from portal.deposits.forms import DepositForm, posted_line_indices
from portal.deposits.history import Cursor, history_page
from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.models import Deposit, DepositStatus, InvoiceKind, utcnow
from portal.web import redirect_to, render

bp = Blueprint("deposits", __name__)
register_editor(bp)


@bp.app_template_global()
def poll_seconds(deposit: Deposit) -> int:
    """How often a pending deposit's status is asked for: often while something is about to
    happen, rarely while it waits for the accounting firm (which can take days)."""
    quick = int(current_app.config["STATUS_POLL_SECONDS"])
    now = utcnow()
    if deposit.status is DepositStatus.QUEUED:
        soon = deposit.next_attempt_at is None or deposit.next_attempt_at - now < timedelta(
            minutes=1
        )
        return quick if soon else max(quick, 30)
    recent = deposit.sent_at is not None and now - deposit.sent_at < timedelta(minutes=2)
    return quick if recent else max(quick, 30)


def _store() -> FileStore:
    return FileStore(current_app.config["STORAGE_DIR"])


def _send_now(deposit_id: int) -> Deposit:
    """One attempt while the user waits (short timeout); the sender retries if it fails.
    A deposit someone else is already sending is left to them."""
    claim = delivery.claim_deposit(deposit_id, owner="web")
    if claim is not None:
        delivery.deliver(
            deposit_id,
            claim,
            client=current_app.extensions["oneconnect"],
            secret_box=current_app.extensions["secret_box"],
            store=_store(),
            read_timeout=float(current_app.config["FIRST_ATTEMPT_READ_TIMEOUT"]),
        )
    return db.session.get(Deposit, deposit_id, populate_existing=True)


@bp.get("/organizations/<int:organization_id>/deposits")
@login_required
def index(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_for(current_user, organization_id)
    status_filter = request.args.get("status") or None
    status = (
        DepositStatus(status_filter) if status_filter in {s.value for s in DepositStatus} else None
    )
    visible = policy.deposits_visible_to(current_user).where(
        Deposit.organization_id == organization.id
    )
    page = history_page(
        visible,
        status=status,
        before=Cursor.decode(request.args.get("before")),
        after=Cursor.decode(request.args.get("after")),
        size=current_app.config["HISTORY_PAGE_SIZE"],
    )
    return render(
        "deposits/index.html",
        block="results",
        organization=organization,
        page=page,
        status=status,
        statuses=list(DepositStatus),
        can_deposit=policy.can_deposit(current_user, organization),
    )


def _new_form() -> DepositForm:
    form = DepositForm()
    if not form.is_submitted():
        form.user_email.data = current_user.email
        form.generated_reference.data = services.generate_reference()
    return form


@bp.get("/organizations/<int:organization_id>/deposits/new")
@login_required
def new(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    return render("deposits/new.html", form=_new_form(), organization=organization)


@bp.post("/organizations/<int:organization_id>/deposits")
@login_required
def create(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    form = _new_form()
    if _edits_lines_without_script(form):
        return render("deposits/new.html", form=form, organization=organization)
    if form.validate_on_submit():
        earlier = (
            None
            if form.external_reference.data
            else services.find_resubmission(
                organization, form.generated_reference.data, current_user
            )
        )
        if earlier is not None:
            flash(_("This invoice was already received; here it is."), "info")
            return redirect_to(url_for("deposits.detail", deposit_id=earlier.id))
        command = services.DepositCommand(
            kind=InvoiceKind(form.kind.data),
            stream=form.invoice_file.data.stream,
            file=form.inspected,
            user_email=form.user_email.data,
            comment=form.comment.data,
            external_reference=form.external_reference.data,
            generated_reference=form.generated_reference.data,
            lines=form.entry_lines(),
            counterparty=form.counterparty_payload(),
        )
        try:
            deposit = services.queue_deposit(
                organization, command, actor=current_user, store=_store()
            )
        except services.DepositRefused as refusal:
            _show_refusal(form, refusal)
        else:
            _flash_outcome(_send_now(deposit.id))
            return redirect_to(url_for("deposits.detail", deposit_id=deposit.id))
    return render("deposits/new.html", form=form, organization=organization), 422


def _edits_lines_without_script(form: DepositForm) -> bool:
    """The editor's buttons (Add line, Duplicate, Remove, the VAT helper, the paste) are real
    buttons: without htmx they post the whole form, and the form applies them."""
    return form.edit_lines()


def _show_refusal(form: DepositForm, refusal: services.DepositRefused) -> None:
    if refusal.field is not None:
        getattr(form, refusal.field).errors = [*getattr(form, refusal.field).errors, str(refusal)]
    else:
        form.form_errors.append(str(refusal))


def _flash_outcome(deposit: Deposit) -> None:
    if deposit.status in (DepositStatus.SENT, DepositStatus.ACCEPTED):
        flash(
            _("Sent to OneConnect. Its status will change when the accounting firm decides."),
            "success",
        )
    elif deposit.status is DepositStatus.QUEUED:
        flash(
            _(
                "The invoice is saved. OneConnect did not answer yet: the portal keeps trying by "
                "itself, and this page shows each attempt."
            ),
            "warning",
        )
    elif deposit.status is DepositStatus.REFUSED:
        flash(_("The accounting firm refused this invoice; see the reason below."), "error")
    else:
        flash(str(deposit.last_error or deposit.status.label), "error")


@bp.post("/organizations/<int:organization_id>/deposits/lines")
@login_required
def add_line(organization_id: int) -> ResponseReturnValue:
    """One new blank line, for htmx to append to the editor."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    form = DepositForm(formdata=None)
    # The page may hold gaps (removed lines): the new line sorts after every index it has.
    form.lines.last_index = max(posted_line_indices(), default=-1)
    form.lines.append_entry()
    return render(
        "deposits/_entry_line.html",
        line=form.lines.entries[-1],
        position=len(posted_line_indices()) + 1,
        organization=organization,
        autofocus=True,
    )


@bp.post("/deposits/lines/remove")
@login_required
def remove_line() -> ResponseReturnValue:
    """htmx drops the line itself (hx-swap=delete); the server has nothing to keep."""
    return Response(status=200)


def _announce_change(response: Response, deposit: Deposit, seen: str | None) -> Response:
    """Polling noticed a new status: have it read out (portal.js fills the live region)."""
    if seen and seen != deposit.status.value:
        message = _("%(file)s: %(status)s", file=deposit.file_name, status=deposit.status.label)
        response.headers["HX-Trigger"] = json.dumps({"portal:announce": message})
    return response


@bp.get("/deposits/<int:deposit_id>")
@login_required
def detail(deposit_id: int) -> ResponseReturnValue:
    deposit = policy.deposit_for(current_user, deposit_id)
    seen = request.args.get("seen")
    response = render(
        "deposits/detail.html",
        block="status_panel",
        deposit=deposit,
        can_retry=policy.can_deposit(current_user, deposit.organization)
        and services.can_retry(deposit),
        retry_form=EmptyForm(),
    )
    return _announce_change(response, deposit, seen)


@bp.get("/deposits/<int:deposit_id>/row")
@login_required
def row(deposit_id: int) -> ResponseReturnValue:
    deposit = policy.deposit_for(current_user, deposit_id)
    response = render("deposits/_deposit_row.html", deposit=deposit)
    return _announce_change(response, deposit, request.args.get("seen"))


@bp.get("/deposits/<int:deposit_id>/file")
@login_required
def download(deposit_id: int) -> ResponseReturnValue:
    deposit = policy.deposit_for(current_user, deposit_id)
    response = send_file(
        _store().path_for(deposit.storage_key),
        mimetype=deposit.media_type,
        as_attachment=True,
        download_name=deposit.file_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/deposits/<int:deposit_id>/retry")
@login_required
def retry(deposit_id: int) -> ResponseReturnValue:
    deposit = policy.deposit_to_act_on(current_user, deposit_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.can_retry(deposit) and services.request_retry(deposit, actor=current_user):
        _flash_outcome(_send_now(deposit.id))
    else:
        flash(
            _("This deposit cannot be sent again right now; its status below is current."), "error"
        )
    return redirect_to(url_for("deposits.detail", deposit_id=deposit.id))
