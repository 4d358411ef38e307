"""The home redirect and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, url_for
from flask_login import login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response:
    return redirect(url_for("organizations.index"))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
