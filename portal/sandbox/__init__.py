"""The simulated OneConnect by Shine: its API, signed webhooks and a console, as one Flask app."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_wtf import CSRFProtect

from portal.oneconnect import spec

if TYPE_CHECKING:
    from portal.sandbox.mailbox import Mailbox

DEFAULT_CLIENT_ID = "portal-sandbox-client"
DEFAULT_CLIENT_SECRET = "portal-sandbox-secret"
DEFAULT_SCOPE = "oneconnect"

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_CONFIG: Mapping[str, Any] = {
    "SANDBOX_DATABASE_URL": "sqlite://",
    "SANDBOX_CLIENT_ID": DEFAULT_CLIENT_ID,
    "SANDBOX_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
    "SANDBOX_SCOPE": DEFAULT_SCOPE,
    "SANDBOX_TOKEN_LIFETIME": 3600,
    "SANDBOX_WEBHOOK_URL": None,
    "SANDBOX_DECISION_DELAY": 3,
    "SANDBOX_WEBHOOK_RETRY_DELAYS": (1, 2, 4, 8, 16),
    "SANDBOX_WEBHOOK_TIMEOUT": 5.0,
    # Room for the largest lawful file and entries, so that an oversize one gets OneConnect's
    # VALIDATION_ERROR rather than Flask's 413 (pitfall 5).
    "MAX_CONTENT_LENGTH": spec.MAX_FILE_BYTES + spec.MAX_ENTRIES_BYTES + 3_000_000,
    "MAX_FORM_MEMORY_SIZE": spec.MAX_ENTRIES_BYTES + 1_000_000,
    "WTF_CSRF_TIME_LIMIT": None,
    # Mounted beside the portal on one host: its own cookie, or each app would log the other out.
    "SESSION_COOKIE_NAME": "oneconnect_sandbox_session",
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The console's language when neither the portal's language cookie nor the browser names
    # French or English.
    "SANDBOX_DEFAULT_LOCALE": "fr",
}


def create_sandbox_app(
    config: Mapping[str, Any] | None = None, *, mailbox: Mailbox | None = None
) -> Flask:
    """Build a sandbox app; its state (the test and console API) is app.extensions["sandbox"].

    Creates the sandbox's tables in SANDBOX_DATABASE_URL if they are missing. With a `mailbox`
    (the embedded demo's local mail server), the console shows what it received.
    """
    # Imported here so that reading the defaults above (the portal's config does) stays cheap.
    from portal import security_headers
    from portal.sandbox import api, console, i18n
    from portal.sandbox.state import SandboxSettings, SandboxState

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    delay = app.config["SANDBOX_DECISION_DELAY"]
    settings = SandboxSettings(
        database_url=app.config["SANDBOX_DATABASE_URL"],
        client_id=app.config["SANDBOX_CLIENT_ID"],
        client_secret=app.config["SANDBOX_CLIENT_SECRET"],
        scope=app.config["SANDBOX_SCOPE"],
        token_lifetime=int(app.config["SANDBOX_TOKEN_LIFETIME"]),
        webhook_url=app.config["SANDBOX_WEBHOOK_URL"],
        decision_delay=None if delay is None else float(delay),
        webhook_retry_delays=tuple(float(d) for d in app.config["SANDBOX_WEBHOOK_RETRY_DELAYS"]),
        webhook_timeout=float(app.config["SANDBOX_WEBHOOK_TIMEOUT"]),
    )
    app.extensions["sandbox"] = SandboxState(settings)

    i18n.init_app(app)
    security_headers.init_app(app)  # the console is a page like the portal's: the same headers
    csrf = CSRFProtect(app)
    for blueprint in (api.bp, api.public_bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(console.bp)
    app.extensions["mailbox"] = mailbox
    return app
