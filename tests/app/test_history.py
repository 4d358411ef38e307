import json
import re
from datetime import timedelta

from flask.testing import FlaskClient

from portal.models import DepositStatus, utcnow
from tests import factories


def rows(page: str) -> list[str]:
    return re.findall(r'<tr id="deposit-(\d+)"', page)


def test_history_is_newest_first_and_paginated_by_keyset(
    app, client: FlaskClient, login_as
) -> None:
    app.config["HISTORY_PAGE_SIZE"] = 3
    member = factories.user()
    organization = factories.organization(member)
    start = utcnow() - timedelta(days=1)
    deposits = [
        factories.deposit(organization, created_at=start + timedelta(minutes=i)) for i in range(7)
    ]
    login_as(member)
    newest_first = [str(d.id) for d in reversed(deposits)]

    first = client.get(f"/organizations/{organization.id}/deposits").get_data(as_text=True)
    assert rows(first) == newest_first[:3]
    older = re.search(r'href="([^"]+before=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert rows(second) == newest_first[3:6]
    third_url = re.search(r'href="([^"]+before=[^"]+)"', second).group(1).replace("&amp;", "&")
    third = client.get(third_url).get_data(as_text=True)
    assert rows(third) == newest_first[6:]
    assert not re.search(r'href="[^"]+before=', third)
    newer = re.search(r'href="([^"]+after=[^"]+)"', third).group(1).replace("&amp;", "&")
    assert rows(client.get(newer).get_data(as_text=True)) == newest_first[3:6]


def test_history_rows_show_the_contract_columns(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization, document_id="doc-123", status=DepositStatus.ACCEPTED)
    login_as(member)
    page = client.get(f"/organizations/{organization.id}/deposits").get_data(as_text=True)
    assert deposit.file_name in page and deposit.external_reference in page
    assert "doc-123" in page and "Accepted" in page


def test_history_filters_by_status(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    accepted = factories.deposit(organization, status=DepositStatus.ACCEPTED)
    refused = factories.deposit(organization, status=DepositStatus.REFUSED)
    login_as(member)
    page = client.get(f"/organizations/{organization.id}/deposits?status=refused").get_data(
        as_text=True
    )
    assert rows(page) == [str(refused.id)]
    assert str(accepted.id) not in rows(page)
    empty = client.get(f"/organizations/{organization.id}/deposits?status=duplicate").get_data(
        as_text=True
    )
    assert "No deposit with the status “Duplicate”" in empty


def test_an_htmx_filter_gets_only_the_results_block(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    factories.deposit(organization)
    login_as(member)
    response = client.get(
        f"/organizations/{organization.id}/deposits?status=sent", headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_a_pending_row_polls_itself_and_a_final_one_stops(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization, status=DepositStatus.SENT)
    login_as(member)
    row = client.get(f"/deposits/{deposit.id}/row?seen=sent", headers={"HX-Request": "true"})
    assert 'hx-trigger="every' in row.get_data(as_text=True)
    assert "HX-Trigger" not in row.headers

    deposit.status = DepositStatus.ACCEPTED
    from portal.extensions import db

    db.session.commit()
    row = client.get(f"/deposits/{deposit.id}/row?seen=sent", headers={"HX-Request": "true"})
    assert "hx-trigger" not in row.get_data(as_text=True)
    announcement = json.loads(row.headers["HX-Trigger"])["portal:announce"]
    assert deposit.file_name in announcement and "Accepted" in announcement


def test_a_cursor_that_is_garbage_shows_the_first_page(client: FlaskClient, login_as) -> None:
    member = factories.user()
    organization = factories.organization(member)
    deposit = factories.deposit(organization)
    login_as(member)
    page = client.get(f"/organizations/{organization.id}/deposits?before=%%%garbage").get_data(
        as_text=True
    )
    assert rows(page) == [str(deposit.id)]
