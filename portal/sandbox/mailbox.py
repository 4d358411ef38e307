"""A local mail server for the embedded demo: what the portal e-mails lands here, and the
sandbox console's Mailbox shows it (text and HTML), so nobody needs a real mailbox to try it.

An aiosmtpd server on 127.0.0.1 in a thread of its own, keeping the last messages in memory.
Port 0 takes a free port (tests); `url` then names the one taken.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

KEEP = 200


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it, with the parts a reader looks at."""

    number: int
    received_at: datetime
    envelope_from: str
    envelope_to: tuple[str, ...]
    raw: bytes = field(repr=False)

    @cached_property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    @property
    def subject(self) -> str:
        return self.header("Subject")

    def _part(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return ""
        # Lines arrive as SMTP carries them (CRLF); readers want them as Python writes them.
        return str(part.get_content()).replace("\r\n", "\n")

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")


class _Keeper:
    """aiosmtpd's handler: accepts every message and keeps it."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        self.mailbox.keep(str(envelope.mail_from), tuple(envelope.rcpt_tos), raw)
        return "250 2.0.0 Message accepted"


class LocalController(Controller):
    """aiosmtpd's Controller, able to take a free port (0) and say which it took."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


class Mailbox:
    """The local server and what it received, newest first."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8025, keep: int = KEEP) -> None:
        self.host = host
        self.port = port
        self._messages: deque[ReceivedMail] = deque(maxlen=keep)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._controller: LocalController | None = None
        self._failed: str | None = None

    def handler(self) -> Any:
        return _Keeper(self)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._controller is not None

    @property
    def problem(self) -> str | None:
        """Why the server could not start, if it could not."""
        return self._failed

    def ensure_started(self) -> None:
        """Start the server unless it runs (or could not start: then it is not tried again)."""
        if self._controller is not None or self._failed is not None:
            return
        with self._lock:
            if self._controller is not None or self._failed is not None:
                return
            controller = LocalController(self.handler(), hostname=self.host, port=self.port)
            try:
                controller.start()
            except OSError as error:  # the port is taken (another portal, another server)
                self._failed = f"{self.host}:{self.port}: {error.strerror or error}"
                log.error(
                    "the local mailbox could not listen on %s; set PORTAL_MAILBOX_PORT to a "
                    "free port, or PORTAL_SMTP_URL to a real mail server",
                    self._failed,
                )
                return
            self.port = controller.port
            self._controller = controller
            log.info("local mailbox listening on %s (read it in the sandbox console)", self.url)

    def stop(self) -> None:
        with self._lock:
            controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def keep(self, sender: str, recipients: tuple[str, ...], raw: bytes) -> ReceivedMail:
        with self._lock:
            received = ReceivedMail(next(self._numbers), datetime.now(UTC), sender, recipients, raw)
            self._messages.appendleft(received)
        return received

    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def get(self, number: int) -> ReceivedMail | None:
        return next((mail for mail in self.messages() if mail.number == number), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
