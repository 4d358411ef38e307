"""Error pages, and domain errors mapped to them."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from portal.catalogue import gettext as _
from portal.extensions import db
from portal.web import render, wants_fragment

log = logging.getLogger(__name__)

PAGES = (400, 403, 404, 405, 413, 422, 429, 500, 503)


def _error_response(status: int, message: str | None = None) -> Response:
    template = "errors/_alert.html" if wants_fragment() else "errors/error.html"
    response = render(template, code=status, message=message)
    response.status_code = status
    return response


def _http_error(error: HTTPException) -> Response | HTTPException:
    status = error.code or 500
    if request.blueprint == "webhooks" or request.path.startswith("/healthz"):
        return error  # machine clients get the plain answer
    message = None
    if status == 413:
        message = _(
            "The upload is too large. An invoice may be at most 5 MB; "
            "choose a smaller file and try again."
        )
    return _error_response(status, message)


def _unexpected_error(error: Exception) -> Response:
    if current_app.testing:
        raise error
    db.session.rollback()
    request_id = getattr(g, "request_id", "-")
    log.exception("unhandled error (request %s)", request_id)
    response = _error_response(500)
    return response


def init_app(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:12]

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
