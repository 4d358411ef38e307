"""The OneConnect deposit portal: create_app assembles configuration, extensions and blueprints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as configuration
from portal import i18n, notices, page_parts
from portal.auth.sessions import forget_loaded_user
from portal.deposits.staging import allow_large_form
from portal.encryption import SecretBox
from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal. `overrides` (tests) win over the PORTAL_* environment."""
    wanted: dict[str, Any] = dict(configuration.read_environment())
    wanted.update(overrides or {})
    instance_dir = Path(wanted.pop("INSTANCE_PATH", configuration.DEFAULT_INSTANCE_DIR))
    app = Flask(
        __name__,
        instance_path=str(instance_dir),
        template_folder=str(configuration.PROJECT_ROOT / "templates"),
        static_folder=str(configuration.PROJECT_ROOT / "static"),
    )
    app.config.update(configuration.BASE_CONFIG)
    app.config.update(wanted)
    complete = dict(app.config)
    configuration.complete_config(complete, instance_dir)
    app.config.update(complete)

    _init_extensions(app)
    _init_oneconnect(app)
    _register_blueprints(app)

    from portal import assets, cli, errors, security_headers

    errors.init_app(app)
    security_headers.init_app(app)
    assets.init_app(app)
    _init_observability(app)
    cli.init_app(app)
    _init_mail(app)
    if app.config["ONECONNECT_EMBEDDED"]:
        _mount_sandbox(app)
    if hops := int(app.config["PROXY_HOPS"]):
        # Behind a load balancer: the client's address and scheme come from its headers (rate
        # limits and the audit log see the person, not the balancer). Only as many hops as set.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if app.config["SENDER_IN_PROCESS"] and not app.testing:
        from portal.deposits.worker import start_in_process

        start_in_process(app)
    return app


def _init_observability(app: Flask) -> None:
    from portal.observability import logs, metrics, readiness, requests_log

    logs.configure(str(app.config["LOG_LEVEL"]), configuration.secrets_of(app.config))
    requests_log.init_app(app)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(readiness.bp)


def _init_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (registers the tables on db.metadata)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(configuration.PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    # Before CSRF's check reads the body: the deposit form's larger cap must already apply.
    app.before_request(allow_large_form)
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # Flask-Login keeps the signed-in user on `g`, which outlives a request when an app context
    # is held across requests (tests, a worker): read the session's user afresh every time.
    app.before_request(forget_loaded_user)
    app.before_request(i18n.remember_pages_language)  # after the user is read afresh
    app.extensions["secret_box"] = SecretBox(str(app.config["ENCRYPTION_KEYS"]))
    app.jinja_env.filters["reason"] = notices.reason_words
    page_parts.init_app(app)


def _init_oneconnect(app: Flask) -> None:
    from portal.oneconnect.client import OneConnectClient
    from portal.oneconnect.webhooks import JwksCache

    upstream = configuration.oneconnect_settings(app.config)
    app.extensions["oneconnect"] = OneConnectClient(
        upstream.token_url,
        upstream.api_base,
        upstream.client_id,
        upstream.client_secret,
        upstream.scope,
        connect_timeout=float(app.config["ONECONNECT_CONNECT_TIMEOUT"]),
        read_timeout=float(app.config["ONECONNECT_READ_TIMEOUT"]),
    )
    app.extensions["oneconnect_jwks"] = JwksCache(upstream.jwks_url)


def _register_blueprints(app: Flask) -> None:
    from portal.admin.views import bp as admin_bp
    from portal.auth.views import bp as auth_bp
    from portal.deposits.views import bp as deposits_bp
    from portal.main import bp as main_bp
    from portal.organizations.views import bp as organizations_bp
    from portal.review.views import bp as review_bp
    from portal.settings.views import bp as settings_bp
    from portal.webhooks.views import bp as webhooks_bp

    for blueprint in (
        main_bp,
        auth_bp,
        organizations_bp,
        deposits_bp,
        webhooks_bp,
        review_bp,
        admin_bp,
        settings_bp,
    ):
        app.register_blueprint(blueprint)


def _init_mail(app: Flask) -> None:
    """The embedded demo's local mailbox, started by the first request (of the portal or the
    console) in a serving process only: never by a command or a test's app."""
    if not app.config["MAILBOX_EMBEDDED"]:
        if not app.config["SMTP_CONFIGURED"] and not app.testing:
            logging.getLogger(__name__).warning(
                "PORTAL_SMTP_URL is unset: e-mails wait in the outbox for a mail server at %s",
                app.config["SMTP_URL"],
            )
        return
    from portal.sandbox.mailbox import Mailbox

    mailbox = Mailbox(port=int(app.config["MAILBOX_PORT"]))
    app.extensions["mailbox"] = mailbox
    if not app.testing:
        app.before_request(mailbox.ensure_started)


def _mount_sandbox(app: Flask) -> None:
    """Serve the simulated OneConnect beside the portal, as `make run` expects by default."""
    from portal.sandbox import create_sandbox_app

    mailbox = app.extensions.get("mailbox")
    sandbox = create_sandbox_app(
        {
            "SANDBOX_DATABASE_URL": app.config["SANDBOX_DATABASE_URL"],
            "SANDBOX_CLIENT_ID": app.config["ONECONNECT_CLIENT_ID"],
            "SANDBOX_CLIENT_SECRET": app.config["ONECONNECT_CLIENT_SECRET"],
            "SANDBOX_SCOPE": app.config["ONECONNECT_SCOPE"],
            "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{app.config['PORT']}/webhooks/one-connect",
            "SANDBOX_DECISION_DELAY": app.config["SANDBOX_DECISION_DELAY"],
            "SECRET_KEY": app.config["SECRET_KEY"],
        },
        mailbox=mailbox,
    )
    if mailbox is not None and not app.testing:
        sandbox.before_request(mailbox.ensure_started)
    app.extensions["sandbox_app"] = sandbox
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {configuration.SANDBOX_MOUNT: sandbox})  # type: ignore[method-assign]
