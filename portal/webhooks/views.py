"""OneConnect's webhook endpoint: verify, store once, apply."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import csrf, db
from portal.notices import Notice
from portal.observability.counters import WEBHOOKS
from portal.oneconnect.webhooks import (
    KeysUnavailable,
    NotACloudEvent,
    SignatureInvalid,
    parse_cloudevent,
    verify_delivery,
)
from portal.webhooks import services

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000
RETRY_AFTER_SECONDS = "30"


_OUTCOMES = {
    202: "accepted",
    200: "duplicate",
    400: "not_a_cloudevent",
    401: "refused",
    413: "too_large",
    503: "deferred",
}


def _answer(code: int, **body: object) -> Response:
    """The answer OneConnect gets; each one counted and logged with the event it was about."""
    outcome = _OUTCOMES.get(code, str(code))  # a few fixed words: bounded metric labels
    WEBHOOKS.labels(outcome=outcome).inc()
    log.info(
        "webhook",
        extra={"status": code, "outcome": outcome, "event_id": g.get("webhook_event_id")},
    )
    response = jsonify(body)
    response.status_code = code
    if code == 503:
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


@bp.post("/one-connect")
@csrf.exempt  # OneConnect signs its deliveries; there is no browser session to protect
def one_connect() -> ResponseReturnValue:
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        return _answer(413, error="body too large")
    # A chunked body announces no length: read one byte past the cap to know it is too long.
    body = request.stream.read(MAX_WEBHOOK_BYTES + 1)
    if len(body) > MAX_WEBHOOK_BYTES:
        return _answer(413, error="body too large")
    try:
        claims = verify_delivery(
            body, request.headers.get("Authorization"), current_app.extensions["oneconnect_jwks"]
        )
    except SignatureInvalid as invalid:
        log.warning("webhook rejected: %s", invalid)
        return _answer(401, error="invalid signature")
    except KeysUnavailable:
        log.error("webhook deferred: no verification key can be had")
        return _answer(503, error="verification keys unavailable")
    try:
        event = parse_cloudevent(body)
    except NotACloudEvent as error:
        return _answer(400, error=f"not a CloudEvent: {error}")
    g.webhook_event_id = event.id
    try:
        services.record_event(event, body, _verification_note(claims))
    except services.DuplicateEvent:
        return _answer(200, status="duplicate")
    except SQLAlchemyError:
        # Nothing was stored: OneConnect delivers again later, and then it is applied.
        db.session.rollback()
        log.exception("webhook %s deferred: the database could not take it", event.id)
        return _answer(503, error="database unavailable")
    return _answer(202, status="accepted")


def _verification_note(claims: dict[str, object]) -> Notice:
    header = claims.get("_header") if isinstance(claims.get("_header"), dict) else {}
    kid = header.get("kid") if isinstance(header, dict) else None
    return (
        Notice("webhook.verified", {"kid": str(kid)[:100]})
        if kid
        else Notice("webhook.verified_no_kid")
    )
