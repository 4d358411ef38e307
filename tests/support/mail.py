"""Helpers for the e-mail tests: a portal app sending to the test's SMTP server, and the sender."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import create_app
from portal.extensions import db
from portal.mail import outbox
from portal.models import MailStatus, OutgoingMail, utcnow

BASE_URL = "https://portal.example"


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Any, smtp: Any) -> Iterator[Flask]:
    """The portal app sending its e-mail to the test's SMTP server (a module that imports this
    fixture gets it in place of the suite's `app`)."""
    from tests.conftest import app_config

    app = create_app(app_config(database_url, tmp_path, sandbox, **mail_config(smtp)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def mail_config(smtp: Any, **extra: Any) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp.url,
        "SMTP_TIMEOUT": 3.0,
        "BASE_URL": BASE_URL,
        "MAIL_FROM": "Portail <portal@cabinet.example>",
        **extra,
    }


def send_all(rounds: int = 5) -> int:
    """Run the sender's e-mail share until nothing due is left; returns how many were tried."""
    total = 0
    for _ in range(rounds):
        attempted = outbox.send_due("test-sender")
        total += attempted
        if not attempted:
            break
    return total


def make_due() -> None:
    """Bring every waiting e-mail's next attempt to now (instead of sleeping through backoff)."""
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.QUEUED)
        .values(next_attempt_at=utcnow())
    )
    db.session.commit()


def rows() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))
