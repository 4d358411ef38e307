"""The catalogue and the formats found once a request (portal/catalogue.py, portal/i18n.py) still
follow every change of language (the next request, refresh(), force_locale()) and write exactly
what Flask-Babel writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import flask_babel
import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from portal.catalogue import gettext, lazy_gettext, ngettext, pgettext
from portal.i18n import LOCALE_COOKIE, format_money, format_when

MOMENT = datetime(2026, 12, 1, 18, 43, tzinfo=UTC)  # 19:43 in Paris


def page_in(app: Flask, language: str):  # type: ignore[no-untyped-def]
    """A request in `language`, its before-request hooks run as for a real one."""
    context = app.test_request_context("/", headers={"Cookie": f"{LOCALE_COOKIE}={language}"})
    context.push()
    app.preprocess_request()
    return context


def test_each_request_speaks_its_own_language(app: Flask) -> None:
    for language, word in (("fr", "Statut"), ("en", "Status"), ("fr", "Statut")):
        context = page_in(app, language)
        try:
            assert gettext("Status") == word
            assert render_template_string("{{ _('Status') }}") == word
            assert str(lazy_gettext("Status")) == word
        finally:
            context.pop()


def test_force_locale_switches_and_then_restores_the_page_language(app: Flask) -> None:
    context = page_in(app, "fr")
    try:
        assert gettext("Status") == "Statut"
        with force_locale("en"):
            assert gettext("Status") == "Status"
            assert render_template_string("{{ _('Status') }}") == "Status"
            assert str(lazy_gettext("Status")) == "Status"
        assert gettext("Status") == "Statut"
    finally:
        context.pop()


def test_plural_and_context_forms_and_their_variables(app: Flask) -> None:
    for language, bytes_word in (("en", "2 bytes"), ("fr", "2 octets")):
        context = page_in(app, language)
        try:
            assert ngettext("%(size)s byte", "%(size)s bytes", 2, size="2") == bytes_word
            assert pgettext("menu", "Admin") == flask_babel.pgettext("menu", "Admin")
            assert gettext("Line %(number)s", number=3) == flask_babel.gettext(
                "Line %(number)s", number=3
            )
        finally:
            context.pop()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_moments_and_amounts_are_written_as_flask_babel_writes_them(
    app: Flask, language: str
) -> None:
    patterns = {"fr": "dd/MM/yyyy HH:mm", "en": "MMM d, yyyy, h:mm a"}
    context = page_in(app, language)
    try:
        for hours in (0, 5, 13, 24 * 120, 24 * 200 + 7):  # winter and summer time in Paris
            moment = MOMENT + timedelta(hours=hours)
            assert format_when(moment) == flask_babel.format_datetime(moment, patterns[language])
        assert format_when(MOMENT.replace(tzinfo=None)) == format_when(MOMENT)  # naive is UTC
        for amount in (Decimal("1234.5"), Decimal("-0.01"), 1_000_000, Decimal("12.345")):
            for currency in ("EUR", "USD", "JPY"):
                assert format_money(amount, currency) == flask_babel.format_currency(
                    amount, currency
                )
    finally:
        context.pop()


def test_outside_a_request_the_default_language_is_used(app: Flask) -> None:
    default = app.config["DEFAULT_LOCALE"]
    with force_locale(default):
        expected = flask_babel.gettext("Status")
    assert gettext("Status") == expected
