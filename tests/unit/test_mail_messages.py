"""PORTAL_SMTP_URL's reading and the message's headers, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.mail.messages import InvalidAddress, Written, build, header_text, message_id
from portal.mail.transport import SmtpSettings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, "plain", None, None)),
        ("smtp://mail.internal", ("mail.internal", 25, "plain", None, None)),
        (
            "smtp+starttls://me%40firm.fr:p%40ss@smtp.firm.fr:587",
            ("smtp.firm.fr", 587, "starttls", "me@firm.fr", "p@ss"),
        ),
        ("smtps://me:pw@smtp.firm.fr", ("smtp.firm.fr", 465, "tls", "me", "pw")),
    ],
)
def test_smtp_urls_are_read(url: str, expected: tuple[object, ...]) -> None:
    settings = SmtpSettings.from_url(url)
    assert (
        settings.host,
        settings.port,
        settings.security,
        settings.username,
        settings.password,
    ) == expected
    assert "pw" not in settings.address and "p%40ss" not in settings.address


@pytest.mark.parametrize(
    "url", ["http://mail", "smtp://", "smtp://me:pw@mail:25", "smtps://mail:notaport"]
)
def test_bad_smtp_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(ValueError, match="PORTAL_SMTP_URL"):
        SmtpSettings.from_url(url)


def test_header_text_keeps_words_on_one_line() -> None:
    assert header_text("facture\r\nBcc: x@y.test\t.pdf") == "facture Bcc: x@y.test .pdf"
    assert len(header_text("é" * 500)) == 200


def test_the_message_is_text_then_html_with_one_click_unsubscribe() -> None:
    message = build(
        Written("Facture refusée : a.pdf", "Bonjour", "<p>Bonjour</p>", "https://p.test/u/1"),
        sender="Portail <portal@firm.fr>",
        recipient="sophie@boulangerie.fr",
        message_id=message_id(7, datetime(2026, 12, 3, tzinfo=UTC), "portal@firm.fr"),
        language="fr",
        date=datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert message["To"] == "sophie@boulangerie.fr"
    assert message["Message-ID"].startswith("<outbox-7.") and message["Message-ID"].endswith(
        "@firm.fr>"
    )
    assert message["List-Unsubscribe"] == "<https://p.test/u/1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "fr"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert b"=?utf-8?" in bytes(message)  # the accented subject is encoded (RFC 2047)


@pytest.mark.parametrize("address", ["a@b.test\r\nBcc: c@d.test", "a@b.test, c@d.test", "nobody"])
def test_an_address_that_is_not_one_address_is_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        build(
            Written("s", "t", "<p>h</p>"),
            sender="p@firm.fr",
            recipient=address,
            message_id="<1@firm.fr>",
            language="en",
            date=datetime(2026, 12, 3, tzinfo=UTC),
        )
