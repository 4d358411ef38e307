"""The embedded demo's mailbox: with no PORTAL_SMTP_URL, the portal sends to a local mail
server, and the sandbox console's Mailbox shows each e-mail's text and HTML, safely."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.extensions import db
from portal.mail import outbox
from portal.models import MailKind
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.support.mail import send_all


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The embedded setup of `make run`: no OneConnect API base, no SMTP URL."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "demo",
            "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
            "SANDBOX_DECISION_DELAY": None,
            "MAILBOX_PORT": 0,
            "DEFAULT_LOCALE": "en",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        yield app
        app.extensions["mailbox"].stop()
        app.extensions["sandbox_app"].extensions["sandbox"].close()
        db.session.remove()
        db.engine.dispose()


def test_without_an_smtp_url_the_demo_sends_to_its_mailbox_and_the_console_shows_it(
    demo: Flask,
) -> None:
    assert demo.config["MAILBOX_EMBEDDED"] and demo.config["SMTP_URL"] == "smtp://127.0.0.1:0"
    member = factories.user("anne@boulangerie.test", locale="en")
    outbox.queue(
        MailKind.REFUSAL,
        member,
        key="refusal:1",
        params={
            "deposit_id": 1,
            "file": "facture <b>mars</b>.pdf",
            "reference": "FA-1",
            "organization": "Boulangerie",
            "reason": "TVA absente",
        },
    )
    db.session.commit()
    mailbox = demo.extensions["mailbox"]
    mailbox.ensure_started()  # as the first request of a serving portal does
    assert mailbox.listening and mailbox.port != 0
    assert send_all() == 1

    client = demo.test_client()
    listing = client.get("/sandbox/mailbox/").get_data(as_text=True)
    assert "anne@boulangerie.test" in listing
    assert "Invoice refused: facture &lt;b&gt;mars&lt;/b&gt;.pdf" in listing
    number = mailbox.messages()[0].number
    page = client.get(f"/sandbox/mailbox/{number}").get_data(as_text=True)
    assert "TVA absente" in page
    # The text version's links can be followed; the HTML version is framed, sandboxed.
    assert '<a href="http://127.0.0.1:5000/deposits/1">http://127.0.0.1:5000/deposits/1</a>' in page
    assert f'src="/sandbox/mailbox/{number}/html" sandbox="allow-popups' in page
    framed = client.get(f"/sandbox/mailbox/{number}/html")
    policy = framed.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    body = framed.get_data(as_text=True)
    assert '<base target="_blank">' in body and "facture &lt;b&gt;mars&lt;/b&gt;.pdf" in body


def test_the_console_has_no_mailbox_when_mail_goes_to_a_real_server(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "demo",
            "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
            "SMTP_URL": "smtp+starttls://me:pw@smtp.firm.example:587",
        }
    )
    try:
        assert not app.config["MAILBOX_EMBEDDED"] and "mailbox" not in app.extensions
        client = app.test_client()
        assert client.get("/sandbox/mailbox/").status_code == 404
        assert "Mailbox" not in client.get("/sandbox/").get_data(as_text=True)
    finally:
        app.extensions["sandbox_app"].extensions["sandbox"].close()
        with app.app_context():
            db.engine.dispose()


def test_a_malformed_smtp_url_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PORTAL_SMTP_URL"):
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": tmp_path / "instance",
                "SECRET_KEY": "x",
                "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
                "ONECONNECT_API_BASE": "http://127.0.0.1:9/v1",
                "SMTP_URL": "mail.firm.example:25",
            }
        )
