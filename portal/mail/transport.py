"""Talking to the mail server over SMTP (standard library only; no Flask, no portal models).

PORTAL_SMTP_URL names the server: `smtp://host:port` (plain), `smtp+starttls://user:pass@host:587`
(upgraded with STARTTLS before credentials are sent) or `smtps://user:pass@host:465` (TLS from
the first byte). Every answer is sorted into two kinds: the server refused this message for
good (a 5xx to the recipient or the data: that mail fails, the others go on), or it could not
take it now (no connection, a timeout, a 4xx, a TLS or credentials problem: tried again later).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    # A private relay's certificate authority (PEM); None: the system's.
    ca_file: str | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0, ca_file: str | None = None) -> Self:
        """Read PORTAL_SMTP_URL; raises ValueError naming what is wrong with it."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ValueError(
                f"PORTAL_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, not {url!r}"
            )
        if not parts.hostname:
            raise ValueError("PORTAL_SMTP_URL names no host")
        security, default_port = _SCHEMES[scheme]
        try:
            port = parts.port if parts.port is not None else default_port
        except ValueError as error:
            raise ValueError(f"PORTAL_SMTP_URL has an invalid port: {error}") from error
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if username and security == "plain":
            # Credentials never cross the network in clear text.
            raise ValueError("PORTAL_SMTP_URL: credentials need smtp+starttls:// or smtps://")
        return cls(parts.hostname, port, security, username, password, timeout, ca_file)

    @property
    def address(self) -> str:
        """Where mail goes, for log lines: never the password."""
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


class MailError(Exception):
    """The server did not take the message. `permanent`: it refused this message for good;
    otherwise it may take it later. `code` is the SMTP reply code when there was one."""

    def __init__(self, kind: str, reply: str, *, code: int | None = None, permanent: bool = False):
        super().__init__(f"{kind}: {code or ''} {reply}".strip())
        self.kind = kind
        self.reply = reply[:500]
        self.code = code
        self.permanent = permanent


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _answer(error: smtplib.SMTPResponseException, kind: str) -> MailError:
    # 5xx to the recipient or the message is about this message; 4xx means "later".
    return MailError(
        kind,
        _reply_text(error.smtp_error),
        code=error.smtp_code,
        permanent=500 <= error.smtp_code < 600 and kind in ("recipient", "data"),
    )


class Connection:
    """One SMTP session, opened on the first message and reused for the ones after it.

    Once the server cannot be reached, every later message of the same session gets that same
    error at once instead of waiting through the timeout again.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._broken: MailError | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand `message` to the server for `recipient`; raises MailError when it did not take it."""
        if self._broken is not None:
            raise self._broken
        try:
            if self._smtp is None:
                self._smtp = self._open()
            refused = self._smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = error.recipients.get(recipient, (550, b"recipient refused"))
            self._reset()
            raise MailError(
                "recipient", _reply_text(reply), code=code, permanent=500 <= code < 600
            ) from error
        except smtplib.SMTPDataError as error:
            self._reset()
            raise _answer(error, "data") from error
        except smtplib.SMTPSenderRefused as error:
            # Our own From is refused: a configuration problem, not this mail's.
            self._reset()
            raise _answer(error, "sender") from error
        except smtplib.SMTPAuthenticationError as error:
            raise self._break(_answer(error, "credentials")) from error
        except smtplib.SMTPNotSupportedError as error:
            raise self._break(MailError("unsupported", str(error))) from error
        except smtplib.SMTPResponseException as error:
            raise self._break(_answer(error, "answer")) from error
        except TimeoutError as error:
            raise self._break(
                MailError("timeout", f"no answer within {self.settings.timeout:g} s")
            ) from error
        except ssl.SSLError as error:
            raise self._break(MailError("tls", error.reason or str(error))) from error
        except (OSError, smtplib.SMTPException) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise self._break(MailError("unreachable", reason or type(error).__name__)) from error
        if refused:  # never with one recipient: smtplib raises when all are refused
            raise MailError("recipient", _reply_text(str(refused)), permanent=True)

    def _reset(self) -> None:
        """After a refused message the session may go on with the next one."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _break(self, error: MailError) -> MailError:
        self._drop()
        self._broken = error
        return error

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            self._drop()
