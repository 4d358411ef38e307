"""Response headers that keep pages from being framed, sniffed or running foreign scripts."""

from __future__ import annotations

from flask import Flask, Response

# htmx is configured (base.html's htmx-config) without eval or injected styles, so no
# 'unsafe-inline' or 'unsafe-eval' is needed.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


# Sent once the portal is served over HTTPS (secure cookies): browsers then refuse plain HTTP.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """The portal's headers on every answer of `app` (the portal, and the sandbox console)."""

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response
