"""The home redirect, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from wtforms import HiddenField
from wtforms.validators import AnyOf

from portal import i18n
from portal.extensions import db
from portal.web import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response:
    return redirect(url_for("organizations.index"))


class LanguageForm(FlaskForm):
    """The switch on every page: the button pressed names the language (`locale`)."""

    locale = HiddenField(validators=[AnyOf(i18n.LOCALES)])
    next = HiddenField()


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Remember the language chosen: on the account when signed in, in a cookie always (so the
    sign-in page speaks it too), then back to the page the switch was pressed on."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(safe_next(form.next.data), code=303)
    locale = str(form.locale.data)
    if current_user.is_authenticated and current_user.locale != locale:
        current_user.locale = locale
        db.session.commit()
    response = redirect(safe_next(form.next.data), code=303)
    response.set_cookie(
        i18n.LOCALE_COOKIE,
        locale,
        max_age=i18n.LOCALE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
