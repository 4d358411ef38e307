"""A real SMTP server for the tests (aiosmtpd on a free 127.0.0.1 port): it keeps what it
receives, refuses the recipients a test names with 550, can require STARTTLS or TLS and
credentials, and can be stopped and started again on the same port (a mail server outage)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.sandbox.mailbox import LocalController, Mailbox, ReceivedMail

USERNAME = "portal"
PASSWORD = "s3cret pass/word"


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self.server.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        self.server.keep(
            str(envelope.mail_from),
            tuple(envelope.rcpt_tos),
            raw if isinstance(raw, bytes) else raw.encode(),
        )
        return "250 2.0.0 Kept"


def _authenticator(
    server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its PEM doubles as the CA file to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SmtpServer(Mailbox):
    """`security`: "plain" (no credentials), "starttls" or "tls" (credentials required)."""

    def __init__(self, security: str = "plain", tls_files: tuple[Path, Path] | None = None):
        super().__init__(port=0)
        self.security = security
        self.refused: set[str] = set()
        self._tls: ssl.SSLContext | None = None
        if security != "plain":
            assert tls_files is not None
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(*map(str, tls_files))
        self.start()

    def start(self) -> None:
        """Listen (again, on the same port once it has one)."""
        options: dict[str, Any] = {}
        if self.security == "starttls":
            options = {
                "tls_context": self._tls,
                "require_starttls": True,
                "authenticator": _authenticator,
                "auth_required": True,
            }
        elif self.security == "tls":
            # aiosmtpd only counts STARTTLS as TLS: AUTH is offered here without it, the whole
            # session being TLS already (and not required, which it would warn about).
            options = {
                "ssl_context": self._tls,
                "authenticator": _authenticator,
                "auth_require_tls": False,
            }
        controller = LocalController(_Handler(self), hostname=self.host, port=self.port, **options)
        controller.start()
        self.port = controller.port
        self._controller = controller

    @property
    def url(self) -> str:
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        credentials = "" if self.security == "plain" else "portal:s3cret%20pass%2Fword@"
        return f"{scheme}://{credentials}{self.host}:{self.port}"

    def received_by(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.messages() if address in mail.envelope_to]
