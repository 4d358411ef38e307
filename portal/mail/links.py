"""Addresses of the portal's pages as e-mails carry them: PORTAL_BASE_URL, never the request's
host (a sender thread has no request, and a forged Host header must not end up in a link)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def absolute(endpoint: str, **values: Any) -> str:
    """The page's full address under PORTAL_BASE_URL (e.g. https://portal.example/deposits/4)."""
    base = urlsplit(str(current_app.config["BASE_URL"]))
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
