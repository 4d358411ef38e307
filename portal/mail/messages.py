"""An e-mail as the mail server receives it: multipart text and HTML, with headers that no
user's text can break (no Flask, no portal models).

File and organization names reach the subject; they are folded to one line of printable text
before `EmailMessage` encodes them (RFC 2047), so a name carrying "\\r\\nBcc: …" stays words in
the subject and never becomes a header.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

_SPACES = re.compile(r" {2,}")
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Written:
    """One e-mail in words: its subject and both bodies, and where to stop such e-mails."""

    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None


class InvalidAddress(ValueError):
    """An address no message can be built for (it would not survive the header)."""


def header_text(value: str, limit: int = MAX_SUBJECT) -> str:
    """`value` as one line of printable text: control and format characters and line breaks
    become spaces, runs of spaces one, capped at `limit` characters. No-break spaces (French
    typography's, before a colon) stay."""
    printable = "".join(
        " "
        if unicodedata.category(character)[0] == "C"
        or unicodedata.category(character) in ("Zl", "Zp")
        or character == "\t"
        else character
        for character in value
    )
    line = _SPACES.sub(" ", printable).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def address(value: str) -> Address:
    """An address for a header; raises InvalidAddress when it is not one address."""
    text = value.strip()
    if not text or any(character in text for character in '\r\n<>,;"') or text.count("@") != 1:
        raise InvalidAddress(value)
    try:
        return Address(addr_spec=text)
    except (ValueError, IndexError) as error:
        raise InvalidAddress(value) from error


def message_id(outbox_id: int, created_at: datetime, sender: str) -> str:
    """The same Message-ID every time one outbox row is sent, so a resend after a crash is
    recognisably the same message (and mail clients show it once)."""
    domain = sender.rpartition("@")[2].strip("> ") or "portal.localhost"
    stamp = hashlib.sha256(f"{outbox_id}:{created_at.isoformat()}".encode()).hexdigest()[:16]
    return f"<outbox-{outbox_id}.{stamp}@{domain}>"


def build(
    written: Written,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    language: str,
    date: datetime,
) -> EmailMessage:
    """The whole message: text first (complete on its own), then its HTML alternative.

    A notice or digest carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), so a
    mail client offers one-click unsubscribing with a POST no crawler sends by following links.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address(recipient)
    message["Subject"] = header_text(written.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    # Automatic mail: out-of-office replies and mailing-list loops leave it alone (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if written.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{written.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(written.text)
    message.add_alternative(written.html, subtype="html")
    # After the bodies: setting them clears every Content-* header.
    message["Content-Language"] = language
    return message
