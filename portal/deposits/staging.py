"""Files chosen on the deposit page become drafts: one by one as soon as they are chosen (script),
or all at once when the form is posted (no script). Either way the form then names them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from portal import policy
from portal.catalogue import gettext as _
from portal.deposits import drafts as draft_store
from portal.deposits.files import InvalidInvoiceFile
from portal.deposits.forms import MAX_FILES, DepositForm
from portal.deposits.photos import PhotoJoinError
from portal.deposits.storage import file_store
from portal.extensions import limiter
from portal.models import Draft, Organization
from portal.web import render


@dataclass
class Staged:
    """The drafts a posted form names (kept ones first, then those it just uploaded) and the
    files that could not be staged, each named with its reason."""

    drafts: list[Draft] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        return [draft.token for draft in self.drafts]


def _chosen(name: str) -> list[FileStorage]:
    return [upload for upload in request.files.getlist(name) if upload and upload.filename]


def refusal_line(file_name: str, reason: str) -> str:
    return _("%(file)s: %(reason)s", file=file_name, reason=reason)


def stage_posted(form: DepositForm, organization: Organization) -> Staged:
    """The drafts named by the posted form, plus every file posted with it, checked and staged."""
    staged = Staged()
    chosen, photos = _chosen(form.invoice_file.name), _chosen(form.photo_pages.name)
    if not chosen and not photos:  # files chosen again replace those kept from before
        discarded = request.form.get("discard_draft")
        named = draft_store.drafts_named(organization, current_user, request.form.getlist("draft"))
        staged.drafts = [draft for draft in named if draft.token != discarded]
    if len(chosen) > MAX_FILES:  # refused before a byte of them is stored
        staged.refusals.append(_("Send at most %(count)s files at once.", count=MAX_FILES))
        return staged
    key = form.generated_reference.data or None
    for upload in chosen:
        try:
            staged.drafts.append(
                draft_store.stage(
                    organization,
                    current_user,
                    upload.stream,
                    upload.filename or "",
                    store=file_store(),
                    form_key=key,
                )
            )
        except InvalidInvoiceFile as refusal:
            staged.refusals.append(refusal_line(upload.filename or "", str(refusal)))
    if photos:
        try:
            staged.drafts.append(
                draft_store.stage_photos(
                    organization,
                    current_user,
                    [photo.stream for photo in photos],
                    [photo.filename or "" for photo in photos],
                    store=file_store(),
                    form_key=key,
                )
            )
        except (InvalidInvoiceFile, PhotoJoinError) as refusal:
            staged.refusals.append(str(refusal))
    return staged


def stage_one(organization_id: int) -> ResponseReturnValue:
    """One file chosen on the page, staged at once; answers its line in the page's file list
    (ready, with the token the form will send, or refused with the reason)."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    uploads = _chosen("invoice_file")
    if len(uploads) != 1:
        return _refused_line("", _("Choose one invoice file."))
    upload = uploads[0]
    try:
        draft = draft_store.stage(
            organization,
            current_user,
            upload.stream,
            upload.filename or "",
            store=file_store(),
            form_key=request.form.get("generated_reference") or None,
        )
    except InvalidInvoiceFile as refusal:
        return _refused_line(upload.filename or "", str(refusal))
    return render("deposits/_draft.html", draft=draft, photo=request.form.get("photo") == "1")


def join_pages(organization_id: int) -> ResponseReturnValue:
    """Photos of one invoice's pages, staged one by one, joined into one PDF draft."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    pages = draft_store.drafts_named(organization, current_user, request.form.getlist("draft"))
    if not pages:
        return _refused_line("", _("Take a photo of each page of the invoice first."))
    if len(pages) > 1:
        try:
            joined = draft_store.join_drafts(pages, store=file_store())
        except (InvalidInvoiceFile, PhotoJoinError) as refusal:
            return _refused_line(draft_store.PHOTOS_NAME, str(refusal))
        pages = [joined]
    return render("deposits/_draft.html", draft=pages[0], photo=False)


def _refused_line(file_name: str, reason: str) -> tuple[str, int]:
    return render("deposits/_draft_refused.html", file_name=file_name, reason=reason), 422


def too_many_files(staged: Staged) -> bool:
    return len(staged.drafts) > MAX_FILES


def allow_large_form() -> None:
    """The deposit form posted without script carries all its files at once: its own cap, set
    before anything (the CSRF check first) reads the body under the app's smaller one."""
    if request.endpoint == "deposits.create":
        request.max_content_length = current_app.config["MAX_FORM_BYTES"]


def _user_key() -> str:
    return f"user:{current_user.id}"


_ROUTES: tuple[tuple[str, str, Callable[..., ResponseReturnValue]], ...] = (
    ("POST", "/organizations/<int:organization_id>/drafts", stage_one),
    ("POST", "/organizations/<int:organization_id>/drafts/join", join_pages),
)


# Generous for a pile of invoices, yet bounded: each staged file is written to disk.
STAGING_LIMIT = "600 per hour"


def register_staging(bp: Blueprint) -> None:
    for method, rule, view in _ROUTES:
        limited = limiter.limit(STAGING_LIMIT, key_func=_user_key)(view)
        bp.add_url_rule(rule, view.__name__, login_required(limited), methods=[method])
