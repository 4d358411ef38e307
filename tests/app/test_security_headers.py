"""Production answers are HTTPS-only (Secure cookies, HSTS); the sandbox console sends the same
security headers as the portal."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from portal import create_app
from portal.config import complete_config
from portal.sandbox import create_sandbox_app


def test_against_the_real_oneconnect_cookies_are_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "SECRET_KEY": "x",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ONECONNECT_API_BASE": "https://api.example.test/v1",
            "SENDER_IN_PROCESS": False,  # no tables here: nothing to send
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Secure" in response.headers.get("Set-Cookie", "Secure")


def test_the_embedded_demo_on_plain_http_sends_no_hsts(tmp_path: Path) -> None:
    config: dict[str, object] = {}
    complete_config(config, tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is False
    explicit: dict[str, object] = {
        "ONECONNECT_API_BASE": "https://x/v1",
        "SESSION_COOKIE_SECURE": False,
    }
    complete_config(explicit, tmp_path)
    assert explicit["SESSION_COOKIE_SECURE"] is False  # PORTAL_SECURE_COOKIES=false wins


def test_the_sandbox_console_sends_the_portals_security_headers() -> None:
    console = create_sandbox_app({"SANDBOX_DECISION_DELAY": None})
    try:
        response = console.test_client().get("/")
        for header in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"):
            assert header in response.headers, header
    finally:
        console.extensions["sandbox"].close()
