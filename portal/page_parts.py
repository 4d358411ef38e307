"""Pieces of markup drawn once a row on the long lists (history, review, admin), written in
Python: a Jinja macro imported and called on every row cost more than the rest of the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from portal.i18n import format_when


def status_badge(status: Any) -> Markup:
    """A deposit's (or mail's) status in words; its icon comes from the `status-<code>` class,
    so it is never told by colour alone."""
    return Markup(
        f'<span class="status status-{escape(status.value)}">{escape(status.label)}</span>'
    )


def time_tag(moment: datetime | None) -> Markup:
    """A moment in the page's language and Paris time, machine-readable in `datetime`."""
    if not moment:
        return Markup("")
    return Markup(f'<time datetime="{moment.isoformat()}">{escape(format_when(moment))}</time>')


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(status_badge=status_badge, when=time_tag)
