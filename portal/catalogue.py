"""The translation functions every module and template uses, reading the page's catalogue once a
request.

Flask-Babel's own `gettext` finds the catalogue anew on every call (the request's state, the
domain, the locale, then a cache keyed by the locale's name): about 20 µs, against 0.4 µs for the
translation itself, so a list of 50 rows spent more time finding its catalogue than drawing
itself. Here the catalogue found is kept in Flask-Babel's own per-request state, in the slot its
`refresh()` and `force_locale()` clear and restore, so a language switched mid-request (Settings,
an e-mail in its recipient's language) is still honoured. Same signatures as Flask-Babel's.
"""

from __future__ import annotations

from typing import Any

import flask_babel
from babel import Locale
from babel.support import NullTranslations
from flask import g, has_app_context
from flask_babel.speaklater import LazyString
from jinja2 import Environment

# Flask-Babel's per-request namespace (on `g`), and the slot in it that refresh() and
# force_locale() reset.
_STATE = "_flask_babel"
_SLOT = "babel_translations"


def page_translations() -> NullTranslations:
    """The catalogue of the language being written in, found once a request."""
    if not has_app_context():
        return flask_babel.get_translations()
    cached = getattr(g.get(_STATE), _SLOT, None)
    if cached is None:
        cached = flask_babel.get_translations()
        state = g.get(_STATE)
        if state is not None:
            setattr(state, _SLOT, cached)
    return cached


def page_babel_locale() -> Locale | None:
    """The page's language as Flask-Babel chose it, read from its own per-request slot."""
    if has_app_context():
        cached = getattr(g.get(_STATE), "babel_locale", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    return flask_babel.get_locale()


def gettext(string: str, **variables: Any) -> str:
    text = page_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return page_translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    text = page_translations().upgettext(context, string)
    return text % variables if variables else text


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return page_translations().unpgettext(context, singular, plural, num) % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """Translated when it is read, in the language of the page (or e-mail) reading it."""
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


def install(environment: Environment) -> None:
    """The templates' `_`, `gettext`, `ngettext`, `pgettext` and `npgettext`, on this catalogue
    (in place of the ones Flask-Babel installed; Jinja formats the variables itself)."""
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda string: page_translations().ugettext(string),
        ngettext=lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: page_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: page_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
