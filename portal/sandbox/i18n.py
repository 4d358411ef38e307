"""The console's language: French first, English the alternative, chosen as the portal chooses.

The sandbox has its own Babel (it must not reach the portal's extensions' app), reads the same
catalogue as the portal and honours the portal's language cookie, so both speak one language.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, format_datetime

from portal.i18n import (
    DEFAULT_LOCALE,
    LANGUAGE_NAMES,
    LOCALE_COOKIE,
    LOCALES,
    choose_locale,
    page_locale,
)
from portal.sandbox import PROJECT_ROOT

TIMEZONE = "Europe/Paris"
TRANSLATIONS = PROJECT_ROOT / "portal" / "translations"  # the portal's catalogue

# Seconds matter in a console that shows when each call and event happened.
_DATETIME_PATTERNS = {"fr": "dd/MM/yyyy HH:mm:ss", "en": "MMM d, yyyy, h:mm:ss a"}

babel = Babel()


def _default_locale() -> str:
    configured = current_app.config.get("SANDBOX_DEFAULT_LOCALE")
    return configured if configured in LOCALES else DEFAULT_LOCALE


def select_locale() -> str:
    """The `portal_locale` cookie, else the browser's first language among fr/en, else
    SANDBOX_DEFAULT_LOCALE."""
    if not has_request_context():
        return _default_locale()
    return choose_locale(
        None,
        request.cookies.get(LOCALE_COOKIE),
        (tag for tag, quality in request.accept_languages if quality > 0),
        _default_locale(),
    )


def format_when(moment: datetime | None) -> str:
    """01/12/2026 19:43:05 in French, Dec 1, 2026, 7:43:05 PM in English; Europe/Paris time."""
    if moment is None:
        return ""
    return format_datetime(moment, _DATETIME_PATTERNS[page_locale()])


def init_app(app: Flask) -> None:
    app.config.setdefault("SANDBOX_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    # Outside a request (the scheduler, the command line) words are in the default language.
    default = app.config["SANDBOX_DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_LOCALE"] = default if default in LOCALES else DEFAULT_LOCALE
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.globals.update(current_locale=page_locale, language_names=LANGUAGE_NAMES)
