"""Browsers ask for /favicon.ico on their own: they get the portal's icon, not a 404."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_favicon_is_served_where_browsers_look_for_it(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    icon = response.get_data(as_text=True)
    assert icon.startswith("<svg") and "#2f6fb3" in icon
    linked = client.get("/static/favicon.svg")
    assert linked.status_code == 200 and linked.get_data(as_text=True) == icon
    response.close()
    linked.close()
