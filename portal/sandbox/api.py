"""The simulated OneConnect HTTP API: token endpoint, /v1 integration routes and the JWKS."""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from portal.oneconnect import spec
from portal.sandbox import refusals, rules
from portal.sandbox.faults import Fault, Hang, LoseAnswer, ResetConnection, ScriptedAnswer, Target
from portal.sandbox.refusals import Refusal
from portal.sandbox.state import SandboxState, TokenRefused

# Same paths as production, relative to wherever the sandbox is mounted.
API_PREFIX = urlsplit(spec.PRODUCTION_API_BASE).path
TOKEN_PATH = urlsplit(spec.PRODUCTION_TOKEN_URL).path
JWKS_PATH = urlsplit(spec.PRODUCTION_JWKS_URL).path

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
public_bp = Blueprint("public", __name__)


def sandbox() -> SandboxState:
    """The sandbox state of the current app."""
    state: SandboxState = current_app.extensions["sandbox"]
    return state


def _rule(path: str) -> str:
    return path.replace("{integration_id}", "<integration_id>")


@public_bp.before_request
def _public_faults() -> Response | None:
    target = Target.TOKEN if request.endpoint == "public.token" else Target.JWKS
    return _misbehave(sandbox().faults.take(target))


@bp.before_request
def _api_faults_then_token() -> Response | None:
    answer = _misbehave(sandbox().faults.take(Target.API))
    if answer is not None:
        return answer
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise refusals.unauthenticated("The Authorization header has no bearer access token.")
    if not sandbox().token_is_valid(token):
        raise refusals.unauthenticated("The access token is unknown or expired.")
    return None


@public_bp.post(TOKEN_PATH)
def token() -> tuple[Response, int] | Response:
    # Credentials are read from the form body only, as OneConnect's docs put them (pitfall 4).
    if request.mimetype != "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", 400)
    try:
        issued = sandbox().issue_token(
            request.form.get("grant_type"),
            request.form.get("client_id"),
            request.form.get("client_secret"),
            request.form.get("scope"),
        )
    except TokenRefused as refused:
        return _oauth_error(refused.error, refused.status)
    response = jsonify(
        token_type="Bearer", expires_in=issued.expires_in, access_token=issued.access_token
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@public_bp.get(JWKS_PATH)
def jwks() -> Response:
    return jsonify(sandbox().jwks())


@bp.get(_rule(spec.STATUS_PATH))
def integration_status(integration_id: str) -> Response:
    integration = sandbox().authorize(integration_id, request.headers.get(spec.API_KEY_HEADER))
    return jsonify(integrationId=integration.id, status=integration.status.value)


@bp.put(_rule(spec.REVOKE_PATH))
def revoke(integration_id: str) -> tuple[str, int]:
    sandbox().revoke_by_user(integration_id, request.headers.get(spec.API_KEY_HEADER))
    return "", 204


def import_invoice(integration_id: str, kind: str) -> Response:
    secret = request.headers.get(spec.API_KEY_HEADER)
    state = sandbox()
    # Authentication first: the body of a stranger's request is not worth validating.
    state.authorize(integration_id, secret)
    upload = rules.read_import(request.form, request.files)
    return jsonify(documentId=state.import_document(integration_id, secret, kind, upload))


for _kind, _path in spec.IMPORT_PATHS.items():
    bp.add_url_rule(
        _rule(_path),
        endpoint=f"import_{_kind}",
        view_func=import_invoice,
        methods=["POST"],
        defaults={"kind": _kind},
    )


@bp.errorhandler(Refusal)
def _refusal(refusal: Refusal) -> Response:
    return problem_response(refusal.problem(), refusal.status, refusal.headers)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    problem = {
        "type": "about:blank",
        "title": error.name,
        "status": status,
        "detail": error.description or error.name,
    }
    return problem_response(problem, status)


def problem_response(
    problem: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response:
    """An RFC 9457 answer."""
    response = Response(
        json.dumps(problem, ensure_ascii=False),
        status=status,
        mimetype=spec.PROBLEM_CONTENT_TYPE,
    )
    response.headers.update(headers or {})
    return response


def _oauth_error(error: str, status: int) -> tuple[Response, int]:
    response = jsonify(error=error)
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = "Basic"
    return response, status


def _misbehave(fault: Fault | None) -> Response | None:
    """Play a scheduled fault: an answer to give instead, or None to carry on (maybe later)."""
    if isinstance(fault, Hang):
        time.sleep(fault.seconds)
        return None
    if isinstance(fault, ResetConnection):
        _drop_connection()
        return Response(status=500)  # never reaches the client: its connection is gone
    if isinstance(fault, LoseAnswer):
        g.lose_answer = True
        return None
    return _scripted(fault)


@bp.after_request
def _lose_answer(response: Response) -> Response:
    if g.get("lose_answer"):
        _drop_connection()
    return response


def _drop_connection() -> None:
    """Close the client's connection at once (a TCP reset), as a crashed upstream would."""
    connection = request.environ.get("werkzeug.socket")
    if connection is None:  # not served by Werkzeug: nothing to drop, answer 502 instead
        return
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.shutdown(socket.SHUT_RDWR)


def _scripted(answer: ScriptedAnswer | None) -> Response | None:
    if answer is None:
        return None
    if answer.body is None:
        return Response(status=answer.status, headers=answer.headers)
    return problem_response(dict(answer.body), answer.status, answer.headers)
