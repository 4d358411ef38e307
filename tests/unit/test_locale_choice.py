"""The page's language: the account's choice, then the cookie, then the browser, then the default."""

from __future__ import annotations

import pytest

from portal.config import read_environment
from portal.i18n import choose_locale


@pytest.mark.parametrize(
    ("saved", "cookie", "accepted", "default", "expected"),
    [
        ("en", "fr", ["fr-FR"], "fr", "en"),  # the account's choice wins over everything
        ("fr", "en", ["en-GB"], "en", "fr"),
        (None, "en", ["fr-FR", "fr"], "fr", "en"),  # signed out: the switch's cookie
        (None, None, ["en-US", "en"], "fr", "en"),  # then the browser
        (None, None, ["fr-CA"], "en", "fr"),
        (None, None, ["de-DE", "de", "en"], "fr", "en"),  # its first language we speak
        (None, None, ["de-DE", "de"], "fr", "fr"),  # a German browser gets the default
        (None, None, [], "en", "en"),
        (None, None, [], "fr", "fr"),
        ("de", "xx", ["it"], "fr", "fr"),  # unknown values are ignored, never trusted
        (None, None, ["EN_gb"], "fr", "en"),
        (None, None, [], "de", "fr"),  # a wrong default falls back to French
    ],
)
def test_locale_choice_order(
    saved: str | None, cookie: str | None, accepted: list[str], default: str, expected: str
) -> None:
    assert choose_locale(saved, cookie, accepted, default) == expected


def test_default_locale_is_read_from_the_environment() -> None:
    assert read_environment({"PORTAL_DEFAULT_LOCALE": "EN"})["DEFAULT_LOCALE"] == "en"
    assert "DEFAULT_LOCALE" not in read_environment({})


def test_an_unsupported_default_locale_stops_the_start() -> None:
    with pytest.raises(ValueError, match="fr or en"):
        read_environment({"PORTAL_DEFAULT_LOCALE": "de"})
