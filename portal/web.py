"""One place deciding between a whole page and a named block of it, and htmx-aware redirects."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, url_for
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block

from portal.extensions import htmx


def wants_fragment() -> bool:
    """An htmx request asking for part of a page (not a boosted navigation or history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, **context: Any) -> Response:
    """The whole page, or only `block` of it when htmx asked for a fragment."""
    if block is not None and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str) -> Response:
    """A redirect a browser follows whether the form was posted by htmx or not."""
    if htmx and not htmx.boosted:
        return htmx_response(location=location)
    return redirect(location, code=303)


def local_path(target: str | None) -> str | None:
    """`target` when it is a path of this site ("/…"), else None: a `next` parameter must never
    send anyone to another host ("//host", "/\\host", a scheme) nor carry control characters."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(character in target for character in "\\\r\n\t")
    ):
        return target
    return None


def safe_next(target: str | None) -> str:
    """`target` when it is a path of this site, else the home page."""
    return local_path(target) or url_for("main.home")
