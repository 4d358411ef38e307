"""The staff review: filters, sorting, keyset pages, the invoice beside its data, CSV, dashboard."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from portal.models import DepositEvent, DepositEventKind, DepositStatus, InvoiceKind, Role, utcnow
from portal.review import rendering
from portal.review.services import neutralise
from tests import factories
from tests.support import invoices

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture(autouse=True)
def english_pages(client: FlaskClient) -> None:
    """These tests read the English pages unless they ask for French (FRENCH headers)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def rows(page: str) -> list[str]:
    return re.findall(r'<tr id="review-(\d+)"', page)


def staff_with(*organizations):
    staff = factories.user(role=Role.STAFF)
    for organization in organizations:
        factories.assign(staff, organization)
    return staff


def test_staff_see_deposits_of_assigned_organizations_only(client: FlaskClient, login_as) -> None:
    mine = factories.organization(name="Assigned SARL")
    other = factories.organization(name="Other SAS")
    shown = factories.deposit(mine, file_name="shown.pdf")
    hidden = factories.deposit(other, file_name="hidden.pdf")
    login_as(staff_with(mine))
    page = client.get("/review/").get_data(as_text=True)
    assert rows(page) == [str(shown.id)]
    assert "hidden.pdf" not in page and "Other SAS" not in page
    assert client.get(f"/review/deposits/{hidden.id}").status_code == 404
    assert rows(client.get(f"/review/?organization={other.id}").get_data(as_text=True)) == []


def test_filters_combine_status_kind_organization_dates_and_text(
    client: FlaskClient, login_as
) -> None:
    first = factories.organization(name="Première")
    second = factories.organization(name="Seconde")
    now = utcnow()
    old = factories.deposit(first, created_at=now - timedelta(days=40), external_reference="OLD-1")
    refused = factories.deposit(first, status=DepositStatus.REFUSED, external_reference="FA-77")
    sales = factories.deposit(second, kind=InvoiceKind.SALES, file_name="vente-mars.pdf")
    supplier = factories.deposit(
        second, counterparty={"name": "EDF Entreprises", "siren": "552081317"}
    )
    login_as(staff_with(first, second))

    def listed(query: str) -> list[str]:
        return rows(client.get(f"/review/?{query}").get_data(as_text=True))

    assert listed("status=refused") == [str(refused.id)]
    assert listed("kind=sales") == [str(sales.id)]
    assert set(listed(f"organization={first.id}")) == {str(old.id), str(refused.id)}
    since = (now - timedelta(days=7)).date().isoformat()
    assert str(old.id) not in listed(f"date_from={since}")
    until = (now - timedelta(days=30)).date().isoformat()
    assert listed(f"date_to={until}") == [str(old.id)]
    assert listed("q=fa-7") == [str(refused.id)]  # reference, case-insensitive
    assert listed("q=VENTE") == [str(sales.id)]  # file name
    assert listed("q=edf") == [str(supplier.id)]  # counterparty name
    assert listed("q=100%25") == []  # a LIKE wildcard is searched literally
    assert "No deposit matches these filters." in client.get("/review/?q=nothing").get_data(
        as_text=True
    )


def test_sorting_and_keyset_pages_walk_every_deposit_once(
    app: Flask, client: FlaskClient, login_as
) -> None:
    app.config["REVIEW_PAGE_SIZE"] = 2
    organization = factories.organization()
    start = utcnow() - timedelta(hours=1)
    made = [
        factories.deposit(
            organization, created_at=start + timedelta(minutes=n), file_name=f"{'edcba'[n]}.pdf"
        )
        for n in range(5)
    ]
    login_as(staff_with(organization))

    def walk(query: str) -> list[str]:
        seen: list[str] = []
        url = f"/review/?{query}"
        while url:
            page = client.get(url).get_data(as_text=True)
            seen += rows(page)
            found = re.search(r'href="([^"]*after=[^"]*)"[^>]*>Next page', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
        return seen

    ids = [str(d.id) for d in made]
    assert walk("sort=newest") == ids[::-1]
    assert walk("sort=oldest") == ids
    assert walk("sort=file_name") == ids[::-1]  # a.pdf was made last
    assert walk("sort=newest&status=sent") == ids[::-1]

    def walk_back(query: str) -> list[list[str]]:
        """From the last page, follow Previous page links to the first; pages as shown."""
        url = f"/review/?{query}"
        while found := re.search(
            r'href="([^"]*after=[^"]*)"[^>]*>Next page',
            page := client.get(url).get_data(as_text=True),
        ):
            url = found.group(1).replace("&amp;", "&")
        pages = [rows(page)]
        while found := re.search(r'href="([^"]*before=[^"]*)"[^>]*>← Previous page', page):
            page = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
            pages.insert(0, rows(page))
        return pages

    assert walk_back("sort=newest") == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert walk_back("sort=file_name") == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert walk_back("sort=oldest") == [ids[0:2], ids[2:4], ids[4:]]


def test_htmx_filtering_gets_only_the_results(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    factories.deposit(organization)
    login_as(staff_with(organization))
    response = client.get("/review/?status=sent", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"') and "<html" not in body


def test_detail_shows_the_invoice_beside_lines_totals_and_story(
    client: FlaskClient, login_as
) -> None:
    organization = factories.organization(name="Boulangerie Martin")
    lines = [
        {
            "date": "2026-03-09",
            "journal": "ACH",
            "account": "60610000",
            "reference": "FA-1",
            "label": "Électricité",
            "debit": {"amount": 1000.5},
            "credit": {"amount": 0},
        },
        {
            "date": "2026-03-09",
            "journal": "ACH",
            "account": "40100000",
            "reference": "FA-1",
            "debit": {"amount": 0},
            "credit": {"amount": 1000.5},
        },
    ]
    deposit = factories.deposit(
        organization,
        entries={"data": {"lines": lines}},
        comment="mars",
        status=DepositStatus.REFUSED,
        rejection_reason="wrong VAT number",
    )
    deposit.events.append(DepositEvent(kind=DepositEventKind.REFUSED, message="wrong VAT number"))
    factories.db.session.commit()
    login_as(staff_with(organization))
    page = client.get(f"/review/deposits/{deposit.id}").get_data(as_text=True)
    assert (
        f'<iframe class="invoice-frame" sandbox="allow-same-origin" src="/deposits/{deposit.id}/invoice/view"'
        in page
    )
    assert f'href="/deposits/{deposit.id}/file" download>Download the original</a>' in page
    assert "Électricité" in page and "60610000" in page
    assert re.search(r'id="total-debit">1,000.50<', page)
    assert re.search(r'id="total-credit">1,000.50<', page)
    assert "Balanced" in page and "In currency" not in page  # lines stored without a currency
    assert "Refused by the accounting firm" in page and "wrong VAT number" in page
    assert "Retry" not in page  # staff are read-only


def test_the_invoice_is_served_inline_in_a_sandbox(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    deposit = factories.deposit(organization, content=b"%PDF-1.4 inline test")
    login_as(staff_with(organization))
    with client.get(f"/deposits/{deposit.id}/invoice") as response:
        assert response.get_data() == b"%PDF-1.4 inline test"
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_images_are_shown_with_an_img(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    deposit = factories.deposit(
        organization, content=b"\x89PNG fake", media_type="image/png", file_name="ticket.png"
    )
    login_as(staff_with(organization))
    page = client.get(f"/review/deposits/{deposit.id}").get_data(as_text=True)
    assert f'<img class="invoice-image" src="/deposits/{deposit.id}/invoice"' in page
    assert "<iframe" not in page


def test_a_pdf_with_active_content_is_never_inline(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    deposit = factories.deposit(organization, active_content=True)
    login_as(staff_with(organization))
    page = client.get(f"/review/deposits/{deposit.id}").get_data(as_text=True)
    assert "<iframe" not in page
    assert "contains scripts or launch actions" in page
    assert f"/deposits/{deposit.id}/file" in page
    with client.get(f"/deposits/{deposit.id}/invoice") as response:
        response.get_data()
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"


PAGES_CSP = "sandbox allow-same-origin; default-src 'none'; img-src 'self'; style-src 'self'"


def page_links(view: str) -> list[str]:
    return [url.replace("&amp;", "&") for url in re.findall(r'<img src="([^"]+)"', view)]


def test_a_pdf_is_shown_as_its_pages_drawn_to_png(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    deposit = factories.deposit(organization, content=invoices.pdf(pages=3))
    login_as(staff_with(organization))
    view = client.get(f"/deposits/{deposit.id}/invoice/view")
    assert view.status_code == 200 and view.mimetype == "text/html"
    assert view.headers["Content-Security-Policy"].startswith(PAGES_CSP)
    assert view.headers["X-Content-Type-Options"] == "nosniff"
    body = view.get_data(as_text=True)
    assert re.findall(r'alt="(Page \d+ of \d+)"', body) == [f"Page {n} of 3" for n in (1, 2, 3)]
    assert "<script" not in body and "<a " not in body and "<form" not in body
    links = page_links(body)
    assert [link.split("?")[0] for link in links] == [
        f"/deposits/{deposit.id}/invoice/pages/{n}.png" for n in (1, 2, 3)
    ]

    with client.get(f"/deposits/{deposit.id}/invoice/pages/2.png") as response:
        png = response.get_data()
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert response.headers["Content-Security-Policy"].startswith(
        "sandbox allow-same-origin; default-src 'none'"
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    assert width == rendering.TARGET_WIDTH
    assert abs(height / width - 842 / 595) < 0.01  # an A4 page keeps its shape
    for number in (0, 4):
        assert client.get(f"/deposits/{deposit.id}/invoice/pages/{number}.png").status_code == 404


def test_the_frame_keeps_our_origin_but_can_run_nothing(client: FlaskClient, login_as) -> None:
    """Its image requests carry the session (allow-same-origin); no script can run in it."""
    organization = factories.organization()
    deposit = factories.deposit(organization, content=invoices.pdf(pages=1)).id
    login_as(staff_with(organization))
    view = client.get(f"/deposits/{deposit}/invoice/view")
    csp = view.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox allow-same-origin;") and "allow-scripts" not in csp
    assert "default-src 'none'" in csp and "script-src" not in csp
    detail = client.get(f"/review/deposits/{deposit}").get_data(as_text=True)
    assert 'sandbox="allow-same-origin"' in detail
    client.post("/logout")
    assert client.get(f"/deposits/{deposit}/invoice/pages/1.png").status_code == 303


def test_staff_may_not_draw_pages_of_foreign_deposits(client: FlaskClient, login_as) -> None:
    mine = factories.organization()
    other = factories.organization()
    foreign = factories.deposit(other, content=invoices.pdf())
    login_as(staff_with(mine))
    assert client.get(f"/deposits/{foreign.id}/invoice/view").status_code == 404
    assert client.get(f"/deposits/{foreign.id}/invoice/pages/1.png").status_code == 404


def test_a_pdf_with_active_content_is_never_drawn(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    deposit = factories.deposit(
        organization, content=invoices.pdf(javascript=True), active_content=True
    )
    login_as(staff_with(organization))
    assert client.get(f"/deposits/{deposit.id}/invoice/view").status_code == 404
    assert client.get(f"/deposits/{deposit.id}/invoice/pages/1.png").status_code == 404
    assert "/invoice/view" not in client.get(f"/review/deposits/{deposit.id}").get_data(
        as_text=True
    )


def test_images_and_unreadable_pdfs_are_not_drawn(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    image = factories.deposit(
        organization, content=invoices.png(), media_type="image/png", file_name="ticket.png"
    )
    broken = factories.deposit(organization, content=b"%PDF-1.4 not really")
    login_as(staff_with(organization))
    assert client.get(f"/deposits/{image.id}/invoice/view").status_code == 404
    assert client.get(f"/deposits/{image.id}/invoice/pages/1.png").status_code == 404
    view = client.get(f"/deposits/{broken.id}/invoice/view")
    assert view.status_code == 200 and "<img" not in view.get_data(as_text=True)
    assert "cannot be read" in view.get_data(as_text=True)
    assert client.get(f"/deposits/{broken.id}/invoice/pages/1.png").status_code == 404


def test_only_the_first_pages_of_a_long_pdf_are_drawn(
    client: FlaskClient, login_as, monkeypatch
) -> None:
    monkeypatch.setattr(rendering, "MAX_PAGES", 2)
    organization = factories.organization()
    deposit = factories.deposit(organization, content=invoices.pdf(pages=3))
    login_as(staff_with(organization))
    body = client.get(f"/deposits/{deposit.id}/invoice/view").get_data(as_text=True)
    assert len(page_links(body)) == 2 and "first 2 of 3 pages" in body
    assert client.get(f"/deposits/{deposit.id}/invoice/pages/3.png").status_code == 404


def test_page_scale_is_capped() -> None:
    assert rendering.scale_for(595, 842) * 595 == rendering.TARGET_WIDTH
    huge = rendering.scale_for(14400, 14400)
    assert huge * 14400 <= rendering.MAX_SIDE
    assert rendering.scale_for(10, 10) == rendering.MAX_SCALE


def test_csv_export_follows_the_filters_and_neutralises_formulas(
    client: FlaskClient, login_as
) -> None:
    organization = factories.organization(name='=HYPERLINK("x")')
    factories.deposit(
        organization,
        status=DepositStatus.ACCEPTED,
        comment="x",
        counterparty={"name": "@SUM(A1)"},
        external_reference="ACC-1",
    )
    factories.deposit(organization, status=DepositStatus.REFUSED, external_reference="REF-9")
    login_as(staff_with(organization))
    response = client.get("/review/export.csv?status=accepted")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["external_reference"] for row in table] == ["ACC-1"]
    assert table[0]["organization"] == '\'=HYPERLINK("x")'
    assert table[0]["counterparty"] == "'@SUM(A1)"
    french = client.get("/review/export.csv?status=accepted", headers=FRENCH)
    [_header, row] = list(csv.reader(io.StringIO(french.get_data(as_text=True)), delimiter=";"))
    assert row[1] == '\'=HYPERLINK("x")' and row[8] == "'@SUM(A1)"


ENTRY_LINES = [
    {
        "date": "2026-03-09T00:00:00.000Z",
        "journal": "ACH",
        "account": "60610000",
        "reference": "FA-1",
        "label": "Électricité",
        "debit": {"amount": 1234.5},
        "credit": {"amount": 0},
    },
    {
        "date": "2026-03-09T00:00:00.000Z",
        "journal": "ACH",
        "account": "40100000",
        "reference": "FA-1",
        "debit": {"amount": 0},
        "credit": {"amount": 1234.5},
    },
]


def exported_deposits(login_as) -> None:
    organization = factories.organization(name="Boulangerie Martin")
    factories.deposit(
        organization,
        status=DepositStatus.ACCEPTED,
        external_reference="FA-1",
        file_name="électricité.pdf",
        counterparty={"name": "EDF Entreprises", "siren": "552081317"},
        entries={"data": {"lines": ENTRY_LINES}},
        # 18:43 UTC on a winter day is 19:43 in Paris.
        created_at=datetime(2026, 3, 9, 18, 43, tzinfo=UTC),
    )
    login_as(staff_with(organization))


def test_the_french_csv_opens_in_a_french_excel(client: FlaskClient, login_as) -> None:
    exported_deposits(login_as)
    response = client.get("/review/export.csv", headers=FRENCH)
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads the accents right
    text = raw.decode("utf-8")
    assert text.startswith("\ufeff") and not text.startswith("\ufeff\ufeff")
    first_line = text[1:].split("\r\n", 1)[0]
    assert first_line.count(";") == 14 and "," not in first_line
    header, row = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert {"Statut", "Type de facture", "Nom du fichier", "Référence externe", "Tiers"} <= set(
        header
    )
    assert "status" not in header and "file_name" not in header  # captions, not codes
    cells = dict(zip(header, row, strict=True))
    assert cells["Organisation"] == "Boulangerie Martin"
    assert cells["Statut"] == "Acceptée" and cells["Type de facture"] == "Achat"
    assert cells["Nom du fichier"] == "électricité.pdf"
    assert row[2] == "09/03/2026 19:43"  # dd/mm/yyyy HH:MM, Europe/Paris
    assert row[12] == "09/03/2026"  # the entry date
    assert row[13] == row[14] == "1234,50"  # a decimal comma, no grouping a spreadsheet misreads


def test_the_english_csv_keeps_the_plain_format(client: FlaskClient, login_as) -> None:
    exported_deposits(login_as)
    text = client.get("/review/export.csv", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert not text.startswith("\ufeff")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["organization"] == "Boulangerie Martin" and row["status"] == "accepted"
    assert row["invoice_type"] == "purchase"
    assert row["deposited_at"] == "2026-03-09T18:43:00+00:00"
    assert row["entry_date"] == "2026-03-09"
    assert row["total_debit"] == row["total_credit"] == "1234.50"


def test_a_negative_amount_stays_a_number_in_the_export(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    credit_note = [dict(line, debit={"amount": -12.5}) for line in ENTRY_LINES[:1]]
    factories.deposit(organization, entries={"data": {"lines": credit_note}})
    factories.deposit(organization, external_reference="NO-LINES")
    login_as(staff_with(organization))
    text = client.get("/review/export.csv?sort=oldest", headers=FRENCH).get_data(as_text=True)
    _header, with_lines, without = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert with_lines[13] == "-12,50"  # not '-12,50: the formula guard is for text cells
    assert without[12:] == ["", "", ""]


def test_neutralise_prefixes_every_formula_trigger() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(dangerous).startswith("'")
    assert neutralise("FA-1") == "FA-1"
    assert neutralise(None) == ""


def test_dashboard_counts_by_status_and_draws_the_weekly_chart(
    client: FlaskClient, login_as
) -> None:
    organization = factories.organization(name="Compteurs SARL")
    for status in (DepositStatus.ACCEPTED, DepositStatus.ACCEPTED, DepositStatus.REFUSED):
        factories.deposit(organization, status=status)
    factories.deposit(organization, created_at=utcnow() - timedelta(weeks=3))
    login_as(staff_with(organization))
    page = client.get("/review/dashboard").get_data(as_text=True)
    row = re.search(r"Compteurs SARL</a></th>(.*?)</tr>", page, re.S).group(1)
    numbers = re.findall(r'<td class="amount"[^>]*>(?:<a [^>]*>)?(\d+)', row)
    # Queued, Sent, Accepted, Refused, Failed, Duplicate, Total
    assert numbers == ["0", "1", "2", "1", "0", "0", "4"]
    assert "<svg" in page and '<title id="chart-title">' in page
    assert page.count('class="bar bar-accepted"') == 1
    assert "The same numbers as a table" in page
    monday = utcnow().date() - timedelta(days=utcnow().date().weekday())
    # English: week labels as "Mar 9", the table and tooltips as "Mar 9, 2026".
    assert re.search(r'text-anchor="middle">[A-Z][a-z]{2} \d{1,2}</text>', page)
    assert f'<time datetime="{monday.isoformat()}">' in page
    assert f"Week of {monday:%b} {monday.day}, {monday.year}, Accepted: 2</title>" in page


def test_the_chart_scale_counts_in_even_round_steps(client: FlaskClient, login_as) -> None:
    organization = factories.organization()
    for _ in range(5):
        factories.deposit(organization, status=DepositStatus.ACCEPTED)
    login_as(staff_with(organization))
    page = client.get("/review/dashboard").get_data(as_text=True)
    scale = re.findall(r'<text class="axis" [^>]*text-anchor="end">([^<]*)</text>', page)
    assert scale == ["0", "1", "2", "3", "4", "5"]
    heights = [float(y) for y in re.findall(r'<line class="grid" [^>]*y1="([\d.]+)"', page)]
    gaps = {round(upper - lower, 1) for upper, lower in pairwise(heights)}
    assert len(gaps) == 1  # evenly spaced gridlines


def test_the_dashboard_speaks_french(app: Flask, client: FlaskClient, login_as) -> None:
    organization = factories.organization(name="Compteurs SARL")
    for _ in range(2):
        factories.deposit(organization, status=DepositStatus.ACCEPTED)
    login_as(staff_with(organization))
    page = client.get("/review/dashboard", headers=FRENCH).get_data(as_text=True)
    monday = utcnow().date() - timedelta(days=utcnow().date().weekday())
    assert f'text-anchor="middle">{monday:%d/%m}</text>' in page  # dd/MM under each bar
    assert f'<time datetime="{monday.isoformat()}">{monday:%d/%m/%Y}</time>' in page
    assert "Dépôts par semaine" in page and "Semaine du" in page
    assert '<span class="swatch bar-accepted" aria-hidden="true"></span>Acceptée' in page
    with app.test_request_context(headers=FRENCH):
        from flask_babel import gettext

        tooltip = gettext(
            "Week of %(week)s, %(status)s: %(count)s",
            week=f"{monday:%d/%m/%Y}",
            status="Acceptée",
            count="2",
        )
    assert f"<title>{tooltip}</title>" in page
    assert "Accepted" not in page


def test_members_have_no_review(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization)
    login_as(member)
    assert client.get("/review/").status_code == 404
    assert client.get(f"/review/deposits/{deposit.id}").status_code == 404
