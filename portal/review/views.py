"""The staff review: the deposits of assigned organizations, each invoice beside its data.

The invoice itself (file, frame and drawn pages) is served by portal.deposits.viewer, for
members' deposit pages as for this one."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import load_only

from portal import policy
from portal.extensions import db
from portal.i18n import PARIS, page_locale, paris_today
from portal.models import DepositStatus, Organization
from portal.review import services
from portal.review.chart import short_day, weekly_chart
from portal.review.forms import FilterForm
from portal.web import render

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.before_request
@login_required
def reviewers_only() -> None:
    policy.require_reviewer(current_user)


def _visible_organizations() -> list[Organization]:
    """The reviewer's organizations, by name: only what the filter and the rows show (a firm's
    staff may follow hundreds)."""
    return list(
        db.session.scalars(
            policy.organizations_visible_to(current_user)
            .options(load_only(Organization.id, Organization.name, raiseload=True))
            .order_by(Organization.name)
        )
    )


def _filter_form(organizations: list[Organization] | None = None) -> FilterForm:
    if organizations is None:
        organizations = _visible_organizations()
    return FilterForm(organizations, formdata=request.args)


@bp.get("/")
def index() -> ResponseReturnValue:
    organizations = _visible_organizations()
    form = _filter_form(organizations)
    filters = form.filters()
    # The deposits of the organizations policy lets this reviewer see, and no other.
    page = services.review_page(
        [organization.id for organization in organizations],
        filters,
        after=request.args.get("after"),
        before=request.args.get("before"),
        size=int(current_app.config.get("REVIEW_PAGE_SIZE", 50)),
        all_organizations=db.session.scalar(select(func.count(Organization.id))),
    )
    query = {k: v for k, v in request.args.items() if k not in ("after", "before", "submit") and v}
    return render(
        "review/index.html",
        block="results",
        form=form,
        page=page,
        query=query,
        organization_names={organization.id: organization.name for organization in organizations},
    )


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
    return render("review/detail.html", deposit=deposit)
