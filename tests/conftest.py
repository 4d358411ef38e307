"""Fixtures shared by every layer: databases (SQLite, or PostgreSQL when asked), the app, users."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.pool import NullPool

from portal import create_app
from portal.extensions import db
from tests import factories

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "migrations",
            "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "ONECONNECT_API_BASE": "http://127.0.0.1:9/v1",
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for the length of the block, dropped even on failure."""
    assert POSTGRES_URL
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log_line() -> Iterator[None]:
    """Every log line the whole run writes is searched, at the end, for the secrets it used:
    passwords, keys, integration secrets and access tokens. One found fails the run."""
    import logging

    from portal.sandbox import DEFAULT_CLIENT_SECRET
    from tests.support import log_scan
    from tests.support.s3 import SECRET_ACCESS_KEY

    secrets = {factories.PASSWORD, TEST_ENCRYPTION_KEY, DEFAULT_CLIENT_SECRET, SECRET_ACCESS_KEY}
    collector = log_scan.Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        with log_scan.sandbox_secrets_remembered(secrets):
            yield
    finally:
        root.removeHandler(collector)
    leaked = log_scan.leaks(collector.lines, secrets)
    assert not leaked, f"{len(leaked)} log lines carry a secret, the first: {leaked[0]}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the latest migration: a SQLite template file, or a fresh PostgreSQL one."""
    instance = tmp_path_factory.mktemp("migrate-instance")
    if POSTGRES_URL:
        with postgres_database("portal_test") as url:
            _migrate(url, instance)
            yield url
    else:
        template = tmp_path_factory.mktemp("db") / "template.sqlite3"
        _migrate(f"sqlite:///{template}", instance)
        yield str(template)


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """A clean database for one test: a copy of the SQLite template, or emptied PostgreSQL tables."""
    if not POSTGRES_URL:
        copy = tmp_path / "portal.sqlite3"
        shutil.copyfile(migrated_database, copy)
        yield f"sqlite:///{copy}"
        return
    yield migrated_database
    engine = sa.create_engine(migrated_database, poolclass=NullPool)
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """The simulated OneConnect on a real port; decisions only when a test asks for them."""
    from tests.support.sandbox import SandboxServer

    server = SandboxServer({"SANDBOX_DECISION_DELAY": None})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    from tests.support.smtp import SmtpServer

    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3-compatible server (moto in server mode) on a free port, for the whole run."""
    from tests.support.s3 import S3Server

    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_storage(s3_server: Any) -> dict[str, str]:
    """The app settings of a new, empty bucket of `s3_server` (STORAGE_URL and S3_*)."""
    return s3_server.settings(s3_server.new_bucket())


def app_config(database_url: str, tmp_path: Path, sandbox: Any, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE_PATH": tmp_path / "instance",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "ONECONNECT_API_BASE": sandbox.api_base,
        "ONECONNECT_TOKEN_URL": sandbox.token_url,
        "ONECONNECT_JWKS_URL": sandbox.jwks_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # The test client sends no Accept-Language: these tests read the English pages, the
        # language tests ask for French (the deployed default) explicitly.
        "DEFAULT_LOCALE": "en",
        # These apps talk to a sandbox on its own port, as to the real OneConnect, which would
        # require a second factor of staff and admins: tests/app/test_two_factor.py asks for it.
        "TWO_FACTOR_REQUIRED": "",
    }
    config.update(extra)
    return config


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Any) -> Iterator[Flask]:
    app = create_app(app_config(database_url, tmp_path, sandbox))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    """Sign `user` in on the test client (through the real form)."""

    def sign_in(user: Any) -> FlaskClient:
        client.post("/logout")
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        return client

    return sign_in
