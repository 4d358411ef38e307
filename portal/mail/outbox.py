"""The outbox: e-mails written as rows in their cause's transaction, then sent exactly once.

Sending follows the deposits' rules (portal.leases): a sender claims due rows with a lease, makes
one attempt per row, and records the outcome only while its claim holds. The server not
answering, or answering 4xx, schedules another attempt with backoff (at most a minute apart) for
24 hours; a 5xx for the recipient or the message fails that row alone, with the server's words,
for admins to read.

Exactly once, as far as SMTP allows: the row is marked `answer_pending` and committed before the
message is handed over, and marked sent right after the server's 250. A sender dying between the
two leaves the row pending: once its lease expires another sender sends it again, with the same
Message-ID, which mail clients show as one message. That window is one SMTP round trip.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from portal import leases
from portal.extensions import db
from portal.i18n import LOCALES
from portal.mail import messages, rendering
from portal.mail.transport import Connection, MailError, SmtpSettings
from portal.models import MailKind, MailStatus, OutgoingMail, User, utcnow
from portal.notices import Notice
from portal.observability.counters import MAILS

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# Longer than one hand-over can last (connection, TLS, credentials and data, each with the
# SMTP timeout), so a live sender keeps its claim.
LEASE = timedelta(minutes=2)
# Short waits: while the server is down, each run meets the refused connection once for all its
# e-mails (portal.mail.transport.Connection), so trying every minute costs little, and the
# e-mails waiting go out within a minute of the server coming back.
FIRST_RETRY_SECONDS = 10.0
MAX_RETRY_SECONDS = 60.0
BATCH = 50


def recipient_language(user: User) -> str:
    """The recipient's language: their own choice, else that of the pages they last read, else
    PORTAL_DEFAULT_LOCALE."""
    for choice in (user.locale, user.pages_locale, current_app.config.get("DEFAULT_LOCALE")):
        if choice in LOCALES:
            return str(choice)
    return LOCALES[0]


def queue(
    kind: MailKind,
    recipient: User,
    *,
    key: str,
    params: dict[str, Any],
    secret: str | None = None,
) -> None:
    """Write one e-mail into the caller's transaction (not committed): it goes out only if the
    cause commits. A second call with the same `key` writes nothing, even from another
    transaction at the same moment (INSERT … ON CONFLICT DO NOTHING on the unique key)."""
    now = utcnow()
    values = {
        "kind": kind,
        "dedup_key": key[:200],
        "recipient_id": recipient.id,
        "to_address": recipient.email,
        "locale": recipient_language(recipient),
        "params": params,
        "secret": (
            current_app.extensions["secret_box"].encrypt(secret) if secret is not None else None
        ),
        "status": MailStatus.QUEUED,
        "attempts": 0,
        "answer_pending": False,
        "queued_at": now,
        "next_attempt_at": now,
        "created_at": now,
    }
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(OutgoingMail.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    db.session.execute(statement)


def transport_settings() -> SmtpSettings:
    config = current_app.config
    url = str(config["SMTP_URL"])
    mailbox = current_app.extensions.get("mailbox")
    # The embedded demo's own mail server, started by the serving process's first request (a
    # `worker` process only sends to it): the port it took, when PORTAL_MAILBOX_PORT is 0.
    if mailbox is not None and mailbox.listening:
        url = mailbox.url
    return SmtpSettings.from_url(
        url,
        timeout=float(config["SMTP_TIMEOUT"]),
        ca_file=config.get("SMTP_CA_FILE") or None,
    )


def send_due(owner: str, *, limit: int = BATCH) -> int:
    """Send the e-mails that are due (up to `limit`) over one SMTP session; returns how many
    were attempted. Commits each outcome."""
    claims = leases.claim_due(OutgoingMail, MailStatus.QUEUED, owner, limit=limit, lease=LEASE)
    if not claims:
        return 0
    with Connection(transport_settings()) as connection:
        for mail_id, claim in claims:
            deliver(mail_id, claim, connection)
    return len(claims)


def deliver(mail_id: int, claim: str, connection: Connection) -> OutgoingMail | None:
    """One attempt for an e-mail this caller claimed, and its outcome; None when the claim was
    lost. Commits before the hand-over (the attempt is visible) and after it (the outcome)."""
    mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
    if mail is None or mail.claimed_by != claim or mail.status is not MailStatus.QUEUED:
        db.session.rollback()
        return None
    if utcnow() >= mail.queued_at + WINDOW:
        _fail(mail, _expired(mail))
        return _release(mail)
    sender = str(current_app.config["MAIL_FROM"])
    try:
        message = _compose(mail, sender)
    except messages.InvalidAddress:
        _fail(mail, Notice("mail.invalid_address", {"address": mail.to_address}))
        return _release(mail)
    except Exception:  # a template or stored data that cannot be worded: this e-mail only
        log.exception("mail %s (%s) could not be written", mail.id, mail.kind.value)
        _fail(mail, Notice("mail.unwritable"))
        return _release(mail)
    if mail.answer_pending:
        log.warning(
            "mail %s (%s): an earlier attempt died before its outcome; sending again as %s",
            mail.id,
            mail.kind.value,
            mail.message_id,
        )
    mail.answer_pending = True
    mail.attempts += 1
    address = mail.to_address
    db.session.commit()  # no transaction stays open while the server answers

    try:
        connection.send(message, sender, address)
        outcome: MailError | None = None
    except MailError as error:
        outcome = error

    if not leases.renew(OutgoingMail, mail_id, claim, LEASE):
        db.session.rollback()  # our lease ran out and another sender took over
        return None
    mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
    assert mail is not None
    mail.answer_pending = False
    if outcome is None:
        mail.status = MailStatus.SENT
        mail.sent_at = utcnow()
        mail.last_error = None
        mail.next_attempt_at = None
        mail.secret = None
        MAILS.labels(event="sent").inc()
        log.info(
            "mail %s (%s) sent to %s through %s, %s",
            mail.id,
            mail.kind.value,
            address,
            connection.settings.address,
            mail.message_id,
        )
    elif outcome.permanent:
        _fail(mail, _refused(outcome))
    else:
        _schedule_retry(mail, outcome)
    return _release(mail)


def _compose(mail: OutgoingMail, sender: str) -> EmailMessage:
    written = rendering.write(mail)
    if mail.message_id is None:
        mail.message_id = messages.message_id(mail.id, mail.created_at, sender)
    return messages.build(
        written,
        sender=sender,
        recipient=mail.to_address,
        message_id=mail.message_id,
        language=mail.locale,
        date=utcnow(),
    )


def cause(error: MailError) -> Notice:
    """What the server said (or why it could not be asked), as a notice."""
    return Notice(f"mail.{error.kind}", {"code": error.code, "reply": error.reply})


def _refused(error: MailError) -> Notice:
    return Notice("mail.refused", {"cause": cause(error).as_data()})


def _schedule_retry(mail: OutgoingMail, error: MailError) -> None:
    MAILS.labels(event="deferred").inc()
    now = utcnow()
    deadline = mail.queued_at + WINDOW
    if now >= deadline:
        _fail(mail, Notice("mail.expired", {"cause": cause(error).as_data()}))
        return
    delay = leases.retry_delay(mail.attempts, first=FIRST_RETRY_SECONDS, ceiling=MAX_RETRY_SECONDS)
    mail.next_attempt_at = min(now + timedelta(seconds=delay), deadline)
    mail.last_error = Notice("mail.waiting", {"cause": cause(error).as_data()})
    log.warning(
        "mail %s (%s) to %s not taken (%s); next attempt at %s",
        mail.id,
        mail.kind.value,
        mail.to_address,
        error,
        mail.next_attempt_at.isoformat(),
    )


def _expired(mail: OutgoingMail) -> Notice:
    waiting = mail.last_error
    nested = waiting.params.get("cause") if waiting is not None else None
    return Notice("mail.expired", {"cause": nested}) if nested else Notice("mail.expired_unknown")


def _fail(mail: OutgoingMail, reason: Notice) -> None:
    MAILS.labels(event="failed").inc()
    mail.status = MailStatus.FAILED
    mail.last_error = reason
    mail.next_attempt_at = None
    mail.secret = None  # a reset link that was not sent is never sent later
    log.warning(
        "mail %s (%s) to %s failed: %s", mail.id, mail.kind.value, mail.to_address, reason.as_data()
    )


def _release(mail: OutgoingMail) -> OutgoingMail:
    mail.claimed_by = None
    mail.claim_expires_at = None
    db.session.commit()
    return mail
