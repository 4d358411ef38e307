"""Static files: content-hashed names cached for a year, gzip and brotli on request, and a first
visit to the sign-in page that stays small over the wire."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from portal.assets import hashed_name

YEAR = 31536000


def asset_links(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_name_assets_by_their_content_and_a_year_of_caching(client: FlaskClient) -> None:
    links = asset_links(client.get("/login").get_data(as_text=True))
    assert any("/css/portal." in link for link in links)
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", link), link
        response = client.get(link)
        assert response.status_code == 200, link
        assert f"max-age={YEAR}" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_changed_file_gets_a_new_name(tmp_path) -> None:
    first = hashed_name(tmp_path / "portal.css", b"a {}")
    assert first != hashed_name(tmp_path / "portal.css", b"b {}")
    assert first == hashed_name(tmp_path / "portal.css", b"a {}")


def test_assets_come_compressed_as_the_browser_accepts(client: FlaskClient) -> None:
    css = next(
        link
        for link in asset_links(client.get("/login").get_data(as_text=True))
        if "/css/portal." in link
    )
    plain = client.get(css)
    brotli = client.get(css, headers={"Accept-Encoding": "gzip, deflate, br"})
    gzip = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert brotli.headers["Content-Encoding"] == "br"
    assert gzip.headers["Content-Encoding"] == "gzip"
    assert len(brotli.get_data()) < len(gzip.get_data()) < len(plain.get_data())
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_a_first_visit_to_login_stays_under_50_kb_over_the_wire(client: FlaskClient) -> None:
    """What a browser accepting brotli downloads: the page, then every asset it names."""
    accept = {"Accept-Encoding": "gzip, deflate, br"}
    page = client.get("/login", headers=accept)
    total = len(page.get_data())
    for link in asset_links(page.get_data(as_text=True)):
        total += len(client.get(link, headers=accept).get_data())
    assert total < 50_000, total
