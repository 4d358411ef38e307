"""The home redirect, the language switch, the favicon and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal import i18n
from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response:
    return redirect(url_for("organizations.index"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Remember the language chosen: on the account when signed in, in a cookie always (so the
    sign-in page speaks it too), then back to the page the switch was pressed on."""
    form = i18n.LanguageForm()
    chosen = form.validate_on_submit()
    if chosen and current_user.is_authenticated and current_user.locale != form.locale.data:
        current_user.locale = str(form.locale.data)
        db.session.commit()
    return i18n.switch_answer(form, chosen, url_for("main.home"))


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico by themselves (for an invoice opened alone, too): they get
    # the SVG that base.html links to, as it is, without a redirect to follow.
    return send_from_directory(str(current_app.static_folder), "favicon.svg")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
