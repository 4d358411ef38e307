"""The outbox against a real SMTP server: a server down then back (each e-mail once), an
address it refuses (that e-mail fails, with the server's words, the others go), a sender dying
between the hand-over and the record, and the three kinds of PORTAL_SMTP_URL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from portal import leases
from portal.extensions import db
from portal.mail import outbox
from portal.mail.transport import Connection, SmtpSettings
from portal.models import MailKind, MailStatus, OutgoingMail, Role, User, utcnow
from tests import factories
from tests.support.mail import app, make_due, rows, send_all
from tests.support.smtp import SmtpServer, certificate

__all__ = ["app"]  # the fixture: this module's portal sends mail to the test's SMTP server


def notify(user: User, number: int) -> None:
    """One refusal notice for `user` (as the webhook writes it), committed."""
    outbox.queue(
        MailKind.REFUSAL,
        user,
        key=f"refusal:{number}",
        params={
            "deposit_id": number,
            "file": f"facture-{number}.pdf",
            "reference": f"REF-{number}",
            "organization": "Boulangerie",
            "reason": "TVA absente",
        },
    )
    db.session.commit()


def test_the_same_cause_writes_one_row(app: Flask) -> None:
    user = factories.user()
    notify(user, 1)
    notify(user, 1)
    assert len(rows()) == 1


def test_mail_waits_while_the_server_is_down_and_each_goes_out_once_it_is_back(
    app: Flask, smtp: SmtpServer
) -> None:
    users = [factories.user(f"person{n}@example.test") for n in range(3)]
    for number, user in enumerate(users):
        notify(user, number)
    smtp.stop()  # connections are refused from now on
    assert send_all() == 3
    for row in rows():
        assert row.status is MailStatus.QUEUED and row.attempts == 1
        assert row.last_error.code == "mail.waiting"
        assert "could not be reached" in str(row.last_error)
        assert row.next_attempt_at > utcnow()
    assert send_all() == 0  # not due yet: backoff
    make_due()
    assert send_all() == 3  # still down: a second attempt each
    assert {row.attempts for row in rows()} == {2}

    smtp.start()  # the same port, accepting again
    make_due()
    assert send_all() == 3
    make_due()
    assert send_all() == 0
    received = sorted(mail.envelope_to[0] for mail in smtp.messages())
    assert received == sorted(user.email for user in users)
    assert {row.status for row in rows()} == {MailStatus.SENT}


def test_an_address_the_server_refuses_fails_that_mail_only(
    app: Flask, smtp: SmtpServer, client: FlaskClient, login_as
) -> None:
    good = factories.user("good@example.test")
    bad = factories.user("gone@example.test")
    smtp.refused.add("gone@example.test")
    notify(bad, 1)
    notify(good, 2)
    assert send_all() == 2
    failed, sent = rows()
    assert failed.status is MailStatus.FAILED and failed.attempts == 1
    assert "550" in str(failed.last_error) and "No such mailbox" in str(failed.last_error)
    assert sent.status is MailStatus.SENT
    assert [mail.envelope_to for mail in smtp.messages()] == [("good@example.test",)]
    make_due()
    assert send_all() == 0  # a refused address is not tried again

    login_as(factories.user("admin@example.test", role=Role.ADMIN))
    overview = client.get("/admin/").get_data(as_text=True)
    assert "Refused by the mail server" in overview
    page = client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "gone@example.test" in page and "550" in page and "No such mailbox here" in page
    assert "good@example.test" not in page


def test_an_address_no_header_can_hold_fails_without_reaching_the_server(
    app: Flask, smtp: SmtpServer
) -> None:
    user = factories.user("odd@example.test")
    notify(user, 1)
    db.session.execute(update(OutgoingMail).values(to_address="a@b.test\r\nBcc: c@d.test"))
    db.session.commit()
    send_all()
    (row,) = rows()
    assert row.status is MailStatus.FAILED and row.last_error.code == "mail.invalid_address"
    assert smtp.messages() == []


def test_a_sender_dying_after_the_hand_over_resends_once_with_the_same_message_id(
    app: Flask, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify(factories.user("claire@example.test"), 1)

    def crash(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("the sender's process dies here")

    monkeypatch.setattr(leases, "renew", crash)
    with pytest.raises(SystemExit):
        send_all()
    monkeypatch.undo()
    db.session.rollback()
    (row,) = rows()
    assert row.status is MailStatus.QUEUED and row.answer_pending  # the outcome was never written
    assert send_all() == 0  # its lease still holds: nobody else sends it meanwhile
    db.session.execute(
        update(OutgoingMail).values(claim_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert send_all() == 1
    first, second = smtp.messages()
    assert first.header("Message-ID") == second.header("Message-ID") == rows()[0].message_id
    assert rows()[0].status is MailStatus.SENT and not rows()[0].answer_pending


def test_a_mail_not_taken_for_24_hours_fails_with_the_last_answer(
    app: Flask, smtp: SmtpServer
) -> None:
    notify(factories.user("late@example.test"), 1)
    smtp.stop()
    send_all()
    db.session.execute(update(OutgoingMail).values(queued_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    make_due()
    send_all()
    (row,) = rows()
    assert row.status is MailStatus.FAILED and row.last_error.code == "mail.expired"
    assert "could not be reached" in str(row.last_error)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_credentials_travel_over_tls_only_and_the_mail_arrives(
    tmp_path: Path, security: str
) -> None:
    cert, key = certificate(tmp_path)
    server = SmtpServer(security, (cert, key))
    try:
        settings = SmtpSettings.from_url(server.url, timeout=3, ca_file=str(cert))
        assert settings.username == "portal" and settings.password == "s3cret pass/word"
        from portal.mail.messages import Written, build

        message = build(
            Written("Hello", "text", "<p>html</p>"),
            sender="portal@example.test",
            recipient="you@example.test",
            message_id="<1@example.test>",
            language="en",
            date=utcnow(),
        )
        with Connection(settings) as connection:
            connection.send(message, "portal@example.test", "you@example.test")
        (mail,) = server.messages()
        assert mail.subject == "Hello" and mail.envelope_to == ("you@example.test",)

        wrong = SmtpSettings.from_url(server.url.replace("s3cret", "wrong"), ca_file=str(cert))
        with Connection(wrong) as connection, pytest.raises(Exception) as refused:
            connection.send(message, "portal@example.test", "you@example.test")
        assert refused.value.kind == "credentials" and not refused.value.permanent
        untrusted = SmtpSettings.from_url(server.url, timeout=3)  # the system's CAs only
        with Connection(untrusted) as connection, pytest.raises(Exception) as tls:
            connection.send(message, "portal@example.test", "you@example.test")
        assert tls.value.kind == "tls" and not tls.value.permanent
    finally:
        server.stop()
