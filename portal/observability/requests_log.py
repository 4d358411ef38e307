"""One log line and one histogram sample per request, under a request id that travels back in
X-Request-ID (an incoming well-formed one is kept, so the proxy's and the portal's lines join)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from flask_login import current_user

from portal.observability.counters import REQUESTS

log = logging.getLogger("portal.requests")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    response.headers["X-Request-ID"] = g.request_id
    REQUESTS.labels(endpoint=endpoint, method=request.method).observe(seconds)
    if endpoint == "static":
        return response
    # The user's id, never their session key (get_id), which signs them in.
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    log.info(
        "request",
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "route": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": user_id,
        },
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
