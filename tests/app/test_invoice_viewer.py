"""Members see the invoice beside its data on their deposit's page, as staff do in the review:
the same sandboxed frame and server-drawn pages, the same refusals."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests import factories
from tests.support import invoices

PAGES_CSP = "sandbox allow-same-origin; default-src 'none'; img-src 'self'; style-src 'self'"


@pytest.fixture(autouse=True)
def english_pages(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_a_member_sees_the_pdf_beside_its_data(client: FlaskClient, login_as) -> None:
    member = factories.user()
    deposit = factories.deposit(factories.organization(member), content=invoices.pdf(pages=2))
    login_as(member)
    page = client.get(f"/deposits/{deposit.id}").get_data(as_text=True)
    assert (
        f'<iframe class="invoice-frame" sandbox="allow-same-origin" '
        f'src="/deposits/{deposit.id}/invoice/view"' in page
    )
    # One column the invoice, the other the status, the facts and the entries, all kept.
    layout = page.index('<div class="review-detail">')
    data = page.index('<div class="invoice-data">')
    view = page.index('<section class="invoice-view"')
    assert layout < data < page.index('id="status-panel"') < view
    assert data < page.index(f'href="/deposits/{deposit.id}/receipt"') < view
    assert data < page.index(f'href="/deposits/{deposit.id}/file" download') < view
    assert data < page.index('id="lines-heading"') < view

    view = client.get(f"/deposits/{deposit.id}/invoice/view")
    assert view.status_code == 200 and view.mimetype == "text/html"
    assert view.headers["Content-Security-Policy"].startswith(PAGES_CSP)
    assert "allow-scripts" not in view.headers["Content-Security-Policy"]
    assert view.headers["X-Content-Type-Options"] == "nosniff"
    assert view.headers["Cache-Control"] == "private, no-store"
    body = view.get_data(as_text=True)
    assert "<script" not in body and "<a " not in body and "<form" not in body
    links = re.findall(r'<img src="([^"]+)"', body)
    assert links == [f"/deposits/{deposit.id}/invoice/pages/{n}.png" for n in (1, 2)]

    with client.get(links[1]) as response:
        png = response.get_data()
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert response.headers["Content-Security-Policy"].startswith(PAGES_CSP)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/deposits/{deposit.id}/invoice/pages/3.png").status_code == 404


def test_a_member_sees_an_image_invoice_served_in_a_sandbox(client: FlaskClient, login_as) -> None:
    member = factories.user()
    deposit = factories.deposit(
        factories.organization(member),
        content=invoices.png(),
        media_type="image/png",
        file_name="ticket.png",
    )
    login_as(member)
    page = client.get(f"/deposits/{deposit.id}").get_data(as_text=True)
    assert f'<img class="invoice-image" src="/deposits/{deposit.id}/invoice"' in page
    assert "<iframe" not in page
    with client.get(f"/deposits/{deposit.id}/invoice") as response:
        assert response.get_data() == invoices.png()
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/deposits/{deposit.id}/invoice/view").status_code == 404


def test_a_member_of_another_organization_gets_404(client: FlaskClient, login_as) -> None:
    owner, stranger = factories.user(), factories.user()
    factories.organization(stranger)
    deposit = factories.deposit(factories.organization(owner), content=invoices.pdf())
    login_as(stranger)
    for url in (
        f"/deposits/{deposit.id}",
        f"/deposits/{deposit.id}/invoice",
        f"/deposits/{deposit.id}/invoice/view",
        f"/deposits/{deposit.id}/invoice/pages/1.png",
    ):
        assert client.get(url).status_code == 404, url


def test_an_active_pdf_is_never_drawn_for_a_member(client: FlaskClient, login_as) -> None:
    member = factories.user()
    deposit = factories.deposit(
        factories.organization(member),
        content=invoices.pdf(javascript=True),
        active_content=True,
    )
    login_as(member)
    page = client.get(f"/deposits/{deposit.id}").get_data(as_text=True)
    assert "<iframe" not in page and "/invoice/view" not in page
    assert "contains scripts or launch actions, so it is not shown here" in page
    assert f'href="/deposits/{deposit.id}/file" download' in page
    assert client.get(f"/deposits/{deposit.id}/invoice/view").status_code == 404
    assert client.get(f"/deposits/{deposit.id}/invoice/pages/1.png").status_code == 404
    with client.get(f"/deposits/{deposit.id}/invoice") as response:
        response.get_data()
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"


def test_a_file_type_that_cannot_be_shown_is_only_offered(client: FlaskClient, login_as) -> None:
    member = factories.user()
    deposit = factories.deposit(
        factories.organization(member), media_type="application/xml", file_name="invoice.xml"
    )
    login_as(member)
    page = client.get(f"/deposits/{deposit.id}").get_data(as_text=True)
    assert "This file type cannot be shown here." in page
    assert "<iframe" not in page and 'class="invoice-image"' not in page


def test_the_polled_status_panel_comes_alone(client: FlaskClient, login_as) -> None:
    """htmx still swaps the status panel only: the invoice is not drawn again at each poll."""
    member = factories.user()
    deposit = factories.deposit(factories.organization(member), content=invoices.pdf())
    login_as(member)
    response = client.get(f"/deposits/{deposit.id}?seen=sent", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="status-panel"')
    assert "invoice-view" not in body and "<iframe" not in body
