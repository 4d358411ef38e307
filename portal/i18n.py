"""The page's language (French first, English the alternative) and values formatted in it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale, numbers
from babel.dates import parse_pattern
from babel.lists import format_list
from flask import Flask, Response, current_app, has_request_context, redirect, request
from flask_babel import (
    format_date,
    format_decimal,
    refresh,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from portal import catalogue
from portal.catalogue import gettext, ngettext, page_babel_locale
from portal.extensions import babel, db
from portal.web import local_path

PARIS = ZoneInfo("Europe/Paris")
LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
# Signed-out visitors' choice; signed-in users' choice is saved on their account.
LOCALE_COOKIE = "portal_locale"
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}  # each in its own language, never translated

# Patterns per locale: French as France writes them, English as an English reader expects.
_DATETIME_PATTERNS = {"fr": "dd/MM/yyyy HH:mm", "en": "MMM d, yyyy, h:mm a"}
_DATE_PATTERNS = {"fr": "dd/MM/yyyy", "en": "MMM d, yyyy"}
_AMOUNT_PATTERN = "#,##0.00"
# Parsed once: the list pages format a moment on every row (Babel's parsing and locale lookups
# cost more than the formatting).
_BABEL_LOCALES = {code: Locale.parse(code) for code in LOCALES}
_DATETIME_FORMATS = {code: parse_pattern(pattern) for code, pattern in _DATETIME_PATTERNS.items()}


def supported(value: str | None) -> str | None:
    """`value` when it names a language of the portal ("fr", "en"), else None."""
    return value if value in LOCALES else None


def choose_locale(
    saved: str | None,
    cookie: str | None,
    accepted: Iterable[str],
    default: str,
) -> str:
    """The account's choice, else the signed-out cookie, else the browser's first language the
    portal speaks (`fr…` or `en…`, in the browser's order of preference), else `default`."""
    for choice in (saved, cookie):
        if supported(choice):
            return str(choice)
    for tag in accepted:
        language = tag.replace("_", "-").split("-")[0].strip().lower()
        if language in LOCALES:
            return language
    return supported(default) or DEFAULT_LOCALE


def select_locale() -> str:
    if not has_request_context():  # the sender, the command line: the portal's default
        return supported(str(current_app.config.get("DEFAULT_LOCALE"))) or DEFAULT_LOCALE
    saved = getattr(current_user, "locale", None) if current_user else None
    return choose_locale(
        saved,
        request.cookies.get(LOCALE_COOKIE),
        (tag for tag, quality in request.accept_languages if quality > 0),
        str(current_app.config.get("DEFAULT_LOCALE", DEFAULT_LOCALE)),
    )


def page_locale() -> str:
    locale = page_babel_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def _babel_locale() -> Locale:
    return page_babel_locale() or _BABEL_LOCALES[DEFAULT_LOCALE]


def remember_pages_language() -> None:
    """Note the language a signed-in user reads pages in, when they chose none: their e-mails
    (written by a sender with no browser to ask) are then in it. Written only when it changes."""
    # Pages read, not files, checks or posts (a webhook, a form answered in its page's language).
    if request.method != "GET" or request.endpoint in (None, "static", "main.healthz"):
        return
    if not current_user.is_authenticated:
        return
    if current_user.locale is not None:
        return  # their own choice decides, for e-mails too
    language = page_locale()
    if current_user.pages_locale != language:
        current_user.pages_locale = language
        db.session.commit()


def paris_today() -> date:
    """Today as the portal's users live it: just after midnight in Paris it is already tomorrow
    while the server's UTC clock still says today."""
    return datetime.now(PARIS).date()


def format_when(moment: datetime | None) -> str:
    """01/12/2026 19:43 in French, Dec 1, 2026, 7:43 PM in English; Europe/Paris time."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # the database's times are UTC
        moment = moment.replace(tzinfo=UTC)
    locale = _babel_locale()
    return _DATETIME_FORMATS[locale.language].apply(moment.astimezone(PARIS), locale)


def format_day(day: date | datetime | str | None) -> str:
    """01/12/2026 in French, Dec 1, 2026 in English; an ISO 8601 text (an entry line's
    `2026-03-09T00:00:00.000Z`) is read first, and shown as it is when it is not a date."""
    if not day:
        return ""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return day
    return format_date(day, _DATE_PATTERNS[page_locale()])


def format_amount(value: Decimal | float | int | None) -> str:
    """Two decimals, grouped: 1 234,56 in French, 1,234.56 in English."""
    if value is None:
        return ""
    return format_decimal(value, _AMOUNT_PATTERN)


def format_money(value: Decimal | float | int | None, currency: str = "EUR") -> str:
    """An amount with its currency: 1 234,56 € in French, €1,234.56 in English."""
    if value is None:
        return ""
    return numbers.format_currency(value, currency or "EUR", locale=_babel_locale())


def format_count(value: int | float | Decimal | None) -> str:
    """A whole number grouped by thousands: 5 000 000 in French, 5,000,000 in English."""
    if value is None:
        return ""
    return format_decimal(value, "#,##0.##")


def format_file_size(size: int | None) -> str:
    """A file's size as people read it: 840 octets, 120 Ko, 1,2 Mo (decimal units, as the 5 MB
    limit is)."""
    if size is None:
        return ""
    if size < 1000:
        return ngettext("%(size)s byte", "%(size)s bytes", size, size=format_count(size))
    if size < 1_000_000:
        return gettext("%(size)s KB", size=format_decimal(round(size / 1000), "#,##0"))
    return gettext("%(size)s MB", size=format_decimal(size / 1_000_000, "#,##0.#"))


def format_series(items: Iterable[object]) -> str:
    """Items joined as the page's language does: 1, 3 et 4 in French, 1, 3, and 4 in English."""
    return format_list([str(item) for item in items], locale=page_locale())


def switch_return_path() -> str:
    """Where the language switch leads back: this page, or for a page answering a POST (a form
    with errors) the page the form was on."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


class LanguageForm(FlaskForm):
    """The switch on every page: the button pressed names the language (`locale`)."""

    locale = HiddenField(validators=[AnyOf(LOCALES)])
    next = HiddenField()


def switch_answer(form: LanguageForm, chosen: bool, fallback: str) -> Response:
    """Back to the page the switch was pressed on (`fallback` when that is not a path of this
    site), remembering a valid choice in the cookie every page of the host reads."""
    response = redirect(local_path(form.next.data) or fallback, code=303)
    if chosen:
        response.set_cookie(
            LOCALE_COOKIE,
            str(form.locale.data),
            max_age=LOCALE_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def format_rate(value: Decimal | float | None) -> str:
    """An exchange rate with up to six decimals: 0,921534 in French, 0.921534 in English."""
    if value is None:
        return ""
    return format_decimal(value, "#,##0.######")


def colon() -> str:
    """The colon between a caption and its value: French typography puts a no-break space
    before it."""
    return "\u00a0: " if page_locale() == "fr" else ": "


def init_app(app: Flask) -> None:
    app.config.setdefault("DEFAULT_LOCALE", DEFAULT_LOCALE)
    # Outside a request (the sender, the command line) words are chosen in the default language.
    app.config["BABEL_DEFAULT_LOCALE"] = supported(app.config["DEFAULT_LOCALE"]) or DEFAULT_LOCALE
    babel.init_app(app, locale_selector=select_locale)
    catalogue.install(app.jinja_env)
    # Flask-Babel caches the choice on `g`, which lives as long as the application context: one
    # held across requests (tests, a worker) would keep the first request's language.
    app.before_request(refresh)
    app.jinja_env.filters.update(
        when=format_when,
        day=format_day,
        amount=format_amount,
        money=format_money,
        count=format_count,
        rate=format_rate,
        filesize=format_file_size,
        series=format_series,
    )
    app.jinja_env.globals.update(
        current_locale=page_locale,
        language_names=LANGUAGE_NAMES,
        switch_return_path=switch_return_path,
        colon=colon,
    )
