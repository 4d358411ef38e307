"""Depositing invoices, the import history and each deposit's story."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal import policy
from portal.auth.forms import EmptyForm
from portal.catalogue import gettext as _
from portal.catalogue import ngettext
from portal.deposits import corrections, delivery, services
from portal.deposits import drafts as draft_store
from portal.deposits.editor import register_editor
from portal.deposits.files import InvalidInvoiceFile
from portal.deposits.forms import MAX_FILES, DepositForm, error_links, posted_line_indices
from portal.deposits.history import Cursor, history_captions, history_page
from portal.deposits.reading_views import register_reading
from portal.deposits.receipt import receipt_pdf
from portal.deposits.staging import (
    Staged,
    refusal_line,
    register_staging,
    stage_posted,
    too_many_files,
)
from portal.deposits.storage import file_store
from portal.deposits.viewer import register_viewer
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Draft, InvoiceKind, Organization, utcnow
from portal.web import redirect_to, render

log = logging.getLogger(__name__)

bp = Blueprint("deposits", __name__)
register_editor(bp)
register_viewer(bp)
register_staging(bp)
register_reading(bp)
bp.add_app_template_global(error_links, "error_links")
bp.add_app_template_global(history_captions, "history_captions")


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


def _web_sender() -> str:
    """The name a request's own attempt goes by in the deposit's story (machine and process)."""
    return f"web@{socket.gethostname()}:{os.getpid()}"


def _send_now(deposit_id: int) -> Deposit:
    """One attempt while the user waits (a few seconds, token fetch included); the sender
    retries if it fails. A deposit someone else is already sending is left to them. The deposit
    is saved already: nothing here may turn that into an error page."""
    budget = float(current_app.config["FIRST_ATTEMPT_SECONDS"])
    try:
        claim = delivery.claim_deposit(deposit_id, owner=_web_sender(), budget=budget)
        if claim is not None:
            delivery.deliver(
                deposit_id,
                claim,
                client=current_app.extensions["oneconnect"],
                secret_box=current_app.extensions["secret_box"],
                store=file_store(),
                budget=budget,
            )
    except Exception:  # the database failed mid-way: the sender takes the deposit over
        db.session.rollback()
        log.exception("deposit %s: the first attempt could not be made", deposit_id)
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
    search = (request.args.get("q") or "").strip()
    page = history_page(
        visible,
        status=status,
        search=search,
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
        search=search,
        statuses=list(DepositStatus),
        can_deposit=policy.can_deposit(current_user, organization),
    )


def _new_form() -> DepositForm:
    form = DepositForm()
    if not form.is_submitted():
        form.user_email.data = current_user.email
        form.generated_reference.data = services.generate_reference()
    return form


def _form_page(
    form: DepositForm,
    organization: Organization,
    drafts: list[Draft] | None = None,
    correction_of: Deposit | None = None,
    correction_file: bool = False,
) -> str:
    return render(
        "deposits/new.html",
        form=form,
        organization=organization,
        drafts=drafts or [],
        several=len([draft for draft in drafts or [] if not draft.used]) > 1,
        correction_of=correction_of,
        correction_file=correction_file,
        max_files=MAX_FILES,
    )


@bp.get("/organizations/<int:organization_id>/deposits/new")
@login_required
def new(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    return _form_page(_new_form(), organization)


@bp.get("/deposits/<int:deposit_id>/correct")
@login_required
def correct(deposit_id: int) -> ResponseReturnValue:
    """The deposit form filled from a refused deposit: its file, details and lines, with a new
    reference (the refused one stays used upstream)."""
    refused = _refused_deposit_to_correct(deposit_id)
    form = DepositForm(formdata=None, data=corrections.form_data(refused))
    form.generated_reference.data = services.generate_reference()
    corrections.renew_line_references(form, refused, form.generated_reference.data)
    form.correction_of.data = str(refused.id)
    return _form_page(form, refused.organization, correction_of=refused, correction_file=True)


def _refused_deposit_to_correct(deposit_id: int) -> Deposit:
    deposit = policy.deposit_to_act_on(current_user, deposit_id)
    if deposit.status is not DepositStatus.REFUSED:
        abort(404)
    return deposit


@bp.post("/organizations/<int:organization_id>/deposits")
@login_required
def create(organization_id: int) -> ResponseReturnValue:
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    form = _new_form()
    correction_of = _correction_named(form, organization)
    staged = stage_posted(form, organization)
    if correction_of is not None and request.form.get("correction_file") == "1":
        _stage_refused_file(form, correction_of, staged)
    if request.form.get("discard_draft") or _edits_lines_without_script(form):
        return _form_page(form, organization, staged.drafts, correction_of)
    valid = form.validate_on_submit()
    valid = _check_files(form, staged) and valid
    if valid:
        return _deposit_all(form, organization, staged, correction_of)
    return _form_page(form, organization, staged.drafts, correction_of), 422


def _stage_refused_file(form: DepositForm, refused: Deposit, staged: Staged) -> None:
    """The refused deposit's file, still chosen in the form: copied once into a draft, which the
    form names from then on (taken out, it is not sent)."""
    if staged.drafts or staged.refusals:
        return  # other files were chosen instead
    try:
        staged.drafts.append(
            draft_store.stage_copy(
                refused,
                current_user,
                store=file_store(),
                form_key=form.generated_reference.data or None,
            )
        )
    except (InvalidInvoiceFile, OSError):
        staged.refusals.append(
            refusal_line(refused.file_name, _("This file cannot be sent again: choose it again."))
        )


def _correction_named(form: DepositForm, organization: Organization) -> Deposit | None:
    """The refused deposit the form corrects, if it names one this user may correct."""
    if not (form.correction_of.data or "").isdigit():
        return None
    deposit = policy.deposit_to_act_on(current_user, int(form.correction_of.data))
    if deposit.organization_id != organization.id or deposit.status is not DepositStatus.REFUSED:
        abort(404)
    return deposit


def _check_files(form: DepositForm, staged: Staged) -> bool:
    """The files' own errors, shown at the file field; False when the form cannot be sent."""
    errors = list(staged.refusals)
    unused = [draft for draft in staged.drafts if not draft.used]
    if not staged.drafts and not errors:
        errors.append(_("Choose the invoice file to send."))
    if too_many_files(staged):
        errors.append(_("Send at most %(count)s files at once.", count=MAX_FILES))
    if len(unused) > 1 and form.holds_invoice_details():
        form.form_errors.append(
            _(
                "An external reference, a counterparty and entry lines belong to one invoice: "
                "take them out, or send that invoice alone."
            )
        )
        errors = errors or [""]
    form.invoice_file.errors = [*form.invoice_file.errors, *[e for e in errors if e]]
    return not errors


def _deposit_all(
    form: DepositForm, organization: Organization, staged: Staged, correction_of: Deposit | None
) -> ResponseReturnValue:
    """Each staged file becomes its own deposit; a file this same form already deposited (a
    second click, a form posted again or restored by Back) is recognised, not sent twice."""
    fresh, again = _fresh_and_again(staged.drafts)
    made: list[Deposit] = []
    for draft in fresh:
        try:
            made.append(
                services.queue_deposit(
                    organization,
                    _command(form, draft, fresh, correction_of),
                    actor=current_user,
                )
            )
        except services.DraftAlreadyUsed as used:
            earlier = used.earlier(organization)
            again.extend([earlier] if earlier is not None else [])
        except services.DepositRefused as refusal:
            if made:  # those already received stay received; say so beside the refusal
                flash(_received_message(len(made)), "success")
            _show_refusal(form, refusal)
            return _form_page(form, organization, staged.drafts, correction_of), 422
    if not made:
        flash(
            _("These %(count)s invoices were already received; here they are.", count=len(again))
            if len(again) > 1
            else _("This invoice was already received; here it is."),
            "info",
        )
        return redirect_to(_where_to_look(organization, again))
    if len(made) == 1 and not again:
        _flash_outcome(_send_now(made[0].id))
        return redirect_to(url_for("deposits.detail", deposit_id=made[0].id))
    flash(_received_message(len(made)), "success")
    return redirect_to(url_for("deposits.index", organization_id=organization.id))


def _received_message(count: int) -> str:
    return ngettext(
        "%(num)d invoices received. The portal sends them to OneConnect one after the "
        "other; each one's status shows below.",
        "%(num)d invoices received. The portal sends them to OneConnect one after the "
        "other; each one's status shows below.",
        count,
    )


def _fresh_and_again(drafts: list[Draft]) -> tuple[list[Draft], list[Deposit]]:
    """The drafts still to deposit (one per distinct file), and the deposits already made from
    the others; a resubmitted copy of a draft is discarded."""
    fresh: list[Draft] = []
    again: list[Deposit] = []
    seen: set[str] = set()
    for draft in drafts:
        earlier = draft_store.earlier_deposit_of(draft)
        if earlier is not None:
            again.append(earlier)
        elif draft.sha256 not in seen:
            seen.add(draft.sha256)
            fresh.append(draft)
            continue
        if not draft.used:
            draft_store.discard([draft], store=file_store())
    return fresh, again


def _command(
    form: DepositForm, draft: Draft, fresh: list[Draft], correction_of: Deposit | None
) -> services.DepositCommand:
    single = len(fresh) == 1
    key = form.generated_reference.data or None
    return services.DepositCommand(
        kind=InvoiceKind(form.kind.data),
        draft=draft,
        user_email=form.user_email.data,
        comment=form.comment.data,
        external_reference=form.external_reference.data if single else None,
        generated_reference=key if single or key is None else f"{key}-{draft.sha256[:10].upper()}",
        generated_reference_derived=not single and key is not None,
        lines=form.entry_lines() if single else [],
        counterparty=form.counterparty_payload() if single else None,
        correction_of=correction_of,
    )


def _where_to_look(organization: Organization, deposits: list[Deposit]) -> str:
    if len(deposits) == 1:
        return url_for("deposits.detail", deposit_id=deposits[0].id)
    return url_for("deposits.index", organization_id=organization.id)


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
    can_deposit = policy.can_deposit(current_user, deposit.organization)
    response = render(
        "deposits/detail.html",
        block="status_panel",
        deposit=deposit,
        can_retry=can_deposit and services.can_retry(deposit),
        can_correct=can_deposit
        and deposit.organization.is_active
        and deposit.status is DepositStatus.REFUSED,
        corrections=services.corrections_of(deposit, policy.deposits_visible_to(current_user)),
        retry_form=EmptyForm(),
    )
    return _announce_change(response, deposit, seen)


@bp.get("/deposits/<int:deposit_id>/receipt")
@login_required
def receipt(deposit_id: int) -> ResponseReturnValue:
    """The deposit's receipt, a PDF in the reader's language."""
    deposit = policy.deposit_for(current_user, deposit_id)
    response = send_file(
        io.BytesIO(receipt_pdf(deposit)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=_("receipt") + f"-{deposit.external_reference}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
        file_store().open(deposit.storage_key),
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
