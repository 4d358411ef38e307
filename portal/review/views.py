"""The staff review: the deposits of assigned organizations, each invoice beside its data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal import policy
from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.i18n import PARIS, page_locale, paris_today
from portal.models import Deposit, DepositStatus, Organization, User
from portal.review import rendering, services
from portal.review.chart import short_day, weekly_chart
from portal.review.forms import FilterForm
from portal.web import render

bp = Blueprint("review", __name__, url_prefix="/review")

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


@bp.before_request
@login_required
def reviewers_only() -> None:
    policy.require_reviewer(current_user)


def _filter_form() -> FilterForm:
    organizations = db.session.scalars(
        policy.organizations_visible_to(current_user).order_by(Organization.name)
    ).all()
    return FilterForm(list(organizations), formdata=request.args)


@bp.get("/")
def index() -> ResponseReturnValue:
    form = _filter_form()
    filters = form.filters()
    page = services.review_page(
        policy.deposits_visible_to(current_user),
        filters,
        after=request.args.get("after"),
        before=request.args.get("before"),
        size=int(current_app.config.get("REVIEW_PAGE_SIZE", 50)),
    )
    query = {k: v for k, v in request.args.items() if k not in ("after", "before", "submit") and v}
    return render("review/index.html", block="results", form=form, page=page, query=query)


@bp.get("/export.csv")
def export() -> Response:
    filters = _filter_form().filters()
    # Written for the reader's spreadsheet: French Excel habits on a French page.
    style = services.csv_style(page_locale())
    lines = services.csv_lines(policy.deposits_visible_to(current_user), filters, style)
    stamp = datetime.now(PARIS).strftime("%Y%m%d-%H%M")
    name = "depots" if style.french else "deposits"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    visible = policy.deposits_visible_to(current_user)
    weeks = services.weekly_counts(visible, weeks=12, today=paris_today())
    return render(
        "review/dashboard.html",
        rows=services.counts_by_organization(
            policy.organizations_visible_to(current_user), visible
        ),
        statuses=list(DepositStatus),
        weeks=weeks,
        chart=weekly_chart(weeks),
        short_day=short_day,
    )


@bp.get("/deposits/<int:deposit_id>")
def detail(deposit_id: int) -> ResponseReturnValue:
    deposit = policy.deposit_for(current_user, deposit_id)
    return render(
        "review/detail.html",
        deposit=deposit,
        inline=_shows_inline(deposit),
    )


def _shows_inline(deposit: Deposit) -> bool:
    return not deposit.active_content and deposit.media_type in INLINE_MEDIA_TYPES


@bp.get("/deposits/<int:deposit_id>/invoice")
def invoice(deposit_id: int) -> ResponseReturnValue:
    """The invoice itself, for the frame or image of the detail page (never active PDFs)."""
    deposit = policy.deposit_for(current_user, deposit_id)
    inline = _shows_inline(deposit)
    response = send_file(
        FileStore(current_app.config["STORAGE_DIR"]).path_for(deposit.storage_key),
        mimetype=deposit.media_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=deposit.file_name,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = INVOICE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _pdf_to_draw(user: User, deposit_id: int) -> tuple[Deposit, Path]:
    """A PDF `user` may see and that may be drawn (never one with active content); 404 else."""
    policy.require_reviewer(user)
    deposit = policy.deposit_for(user, deposit_id)
    if deposit.active_content or deposit.media_type != "application/pdf":
        abort(404)
    return deposit, FileStore(current_app.config["STORAGE_DIR"]).path_for(deposit.storage_key)


@bp.get("/deposits/<int:deposit_id>/invoice/view")
def invoice_pages(deposit_id: int) -> ResponseReturnValue:
    """The frame's document for a PDF: its pages as images, with no script and no link."""
    deposit, path = _pdf_to_draw(current_user, deposit_id)
    total, problem = 0, None
    try:
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


@bp.get("/deposits/<int:deposit_id>/invoice/pages/<int:number>.png")
def invoice_page(deposit_id: int, number: int) -> ResponseReturnValue:
    """One page of a PDF invoice, drawn to PNG on the server."""
    _, path = _pdf_to_draw(current_user, deposit_id)
    try:
        image = rendering.render_page(path, number)
    except (IndexError, rendering.UnreadablePdf):
        abort(404)
    response = Response(image, mimetype="image/png")
    response.headers["Content-Security-Policy"] = PAGES_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
