"""The invoice shown beside its data, on the deposit's page and in the staff review: the file
itself for an image, or a PDF's pages drawn to PNG on the server inside a sandboxed frame.

Whoever may see the deposit (its organization's members, assigned staff, admins) may see its
invoice; anyone else gets 404. A PDF with active content is never shown nor drawn."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    render_template,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal import policy
from portal.deposits.storage import file_store
from portal.models import Deposit, User
from portal.review import rendering

INLINE_MEDIA_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/bmp"}
# The invoice is shown in its own sandboxed document: no script, no request of its own, and
# no plugin but the browser's PDF viewer for our own origin.
INVOICE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
# A PDF is shown as its pages drawn to PNG on the server: Chromium shows no PDF in a sandboxed
# frame, and this way no PDF viewer (nor any PDF script) runs in the browser at all.
# The frame keeps our origin (so its image requests carry the session) but nothing can run in
# it: no allow-scripts in the sandbox, and no script source in the policy.
PAGES_CSP = (
    "sandbox allow-same-origin; default-src 'none'; img-src 'self'; style-src 'self'; "
    "frame-ancestors 'self'"
)


def shows_inline(deposit: Deposit) -> bool:
    """Whether the detail pages show the invoice itself (never a PDF with active content)."""
    return not deposit.active_content and deposit.media_type in INLINE_MEDIA_TYPES


def invoice(deposit_id: int) -> ResponseReturnValue:
    """The invoice itself, for the frame or image of the detail page (never active PDFs)."""
    deposit = policy.deposit_for(current_user, deposit_id)
    inline = shows_inline(deposit)
    response = send_file(
        file_store().open(deposit.storage_key),
        mimetype=deposit.media_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=deposit.file_name,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = INVOICE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _pdf_to_draw(user: User, deposit_id: int) -> Deposit:
    """A PDF `user` may see and that may be drawn (never one with active content); 404 else."""
    deposit = policy.deposit_for(user, deposit_id)
    if deposit.active_content or deposit.media_type != "application/pdf":
        abort(404)
    return deposit


def invoice_pages(deposit_id: int) -> ResponseReturnValue:
    """The frame's document for a PDF: its pages as images, with no script and no link."""
    deposit = _pdf_to_draw(current_user, deposit_id)
    total, problem = 0, None
    try:
        with file_store().local_path(deposit.storage_key) as path:
            total = rendering.page_count(path)
    except rendering.UnreadablePdf as error:
        problem = "encrypted" if error.encrypted else "unreadable"
    response = make_response(
        render_template(
            "review/invoice_pages.html",
            deposit=deposit,
            total=total,
            shown=min(total, rendering.MAX_PAGES),
            problem=problem,
        )
    )
    response.headers["Content-Security-Policy"] = PAGES_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def invoice_page(deposit_id: int, number: int) -> ResponseReturnValue:
    """One page of a PDF invoice, drawn to PNG on the server."""
    deposit = _pdf_to_draw(current_user, deposit_id)
    try:
        with file_store().local_path(deposit.storage_key) as path:
            image = rendering.render_page(path, number)
    except (IndexError, rendering.UnreadablePdf):
        abort(404)
    response = Response(image, mimetype="image/png")
    response.headers["Content-Security-Policy"] = PAGES_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


_ROUTES: tuple[tuple[str, str, Callable[..., ResponseReturnValue]], ...] = (
    ("GET", "/deposits/<int:deposit_id>/invoice", invoice),
    ("GET", "/deposits/<int:deposit_id>/invoice/view", invoice_pages),
    ("GET", "/deposits/<int:deposit_id>/invoice/pages/<int:number>.png", invoice_page),
)


def register_viewer(bp: Blueprint) -> None:
    """The invoice viewer's routes and template helper, on the deposits blueprint."""
    for method, rule, view in _ROUTES:
        bp.add_url_rule(rule, view.__name__, login_required(view), methods=[method])
    bp.add_app_template_global(shows_inline, "shows_inline")
