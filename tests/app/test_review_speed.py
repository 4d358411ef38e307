"""The review and the history at an accounting firm's scale: a bounded number of statements
whatever the page holds, both ways of walking the review giving the same rows, and a search
that finds the same deposits on SQLite and PostgreSQL. Nothing here is timed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portal.extensions import db
from portal.models import Deposit, DepositStatus, InvoiceKind, Organization, Role, utcnow
from portal.review.listing import SORTS, Filters, review_page
from tests import factories

MAX_STATEMENTS = 6
STATUSES = list(DepositStatus)


@pytest.fixture(autouse=True)
def english_pages(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every SQL statement run inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def many_deposits(organizations: list[Organization], each: int) -> list[Deposit]:
    """`each` deposits per organization, interleaved in time, with entry lines and a
    counterparty as the form makes them (JSON a list must not read)."""
    start = utcnow() - timedelta(days=30)
    made = []
    for n in range(each * len(organizations)):
        organization = organizations[n % len(organizations)]
        made.append(
            Deposit(
                organization_id=organization.id,
                kind=InvoiceKind.SALES if n % 3 == 0 else InvoiceKind.PURCHASE,
                file_name=f"facture-{n:04d}.pdf",
                file_size=1000,
                media_type="application/pdf",
                sha256="0" * 64,
                storage_key=f"{n:032x}",
                external_reference=f"REF-{n:04d}",
                status=STATUSES[n % len(STATUSES)],
                counterparty={"name": f"Fournisseur {n % 7}"},
                entries={"data": {"lines": [{"date": "2026-03-01", "debit": {"amount": 1}}]}},
                created_at=start + timedelta(minutes=n),
            )
        )
    db.session.add_all(made)
    db.session.commit()
    return made


UNSHOWN_JSON = ("deposits.entries", "deposits.counterparty,", "deposits.reading")


def reads_no_unshown_json(statements: list[str]) -> bool:
    """A list decodes no JSON it does not show (entries can be megabytes per row)."""
    return not any(column in s for s in statements for column in UNSHOWN_JSON)


def staff_of(organizations: list[Organization]) -> Any:
    staff = factories.user(role=Role.STAFF)
    for organization in organizations:
        factories.assign(staff, organization)
    return staff


def review_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="review-(\d+)"', page)


def next_link(page: str, words: str) -> str | None:
    found = re.search(rf'href="([^"]*)"[^>]*>{re.escape(words)}', page)
    return found.group(1).replace("&amp;", "&") if found else None


REVIEW_PAGES = [
    "/review/",
    "/review/?sort=oldest",
    "/review/?sort=file_name",
    "/review/?sort=reference",
    "/review/?status=refused",
    "/review/?kind=sales&sort=file_name",
    "/review/?q=fournisseur%203",
    "/review/?date_from=2000-01-01",
]


@pytest.mark.parametrize("url", REVIEW_PAGES)
def test_a_review_page_runs_a_few_statements_however_many_organizations_and_rows(
    app: Flask, client: FlaskClient, login_as, url: str
) -> None:
    app.config["REVIEW_PAGE_SIZE"] = 10
    organizations = [factories.organization(name=f"Client {n:02d}") for n in range(12)]
    many_deposits(organizations, each=6)
    factories.organization(name="Not assigned")  # so the reviewer sees most, not all
    login_as(staff_of(organizations[:4]))  # a few of many: each organization's own index
    client.get("/review/")  # the first page read in a language remembers it (one UPDATE, once)
    with counted() as few:
        first = client.get(url).get_data(as_text=True)
    login_as(staff_of(organizations))  # most: the whole table's order
    client.get("/review/")
    with counted() as most:
        page = client.get(url).get_data(as_text=True)
    assert review_rows(first) and review_rows(page)
    assert len(few) <= MAX_STATEMENTS, few
    assert len(most) <= MAX_STATEMENTS, most
    assert reads_no_unshown_json(few + most)
    later = next_link(page, "Next page")
    assert later is not None
    with counted() as deeper:
        assert review_rows(client.get(later).get_data(as_text=True))
    assert len(deeper) <= MAX_STATEMENTS, deeper


def test_a_history_page_runs_a_few_statements_whatever_it_holds(
    app: Flask, client: FlaskClient, login_as
) -> None:
    app.config["HISTORY_PAGE_SIZE"] = 20
    member = factories.user()
    organization = factories.organization(member)
    many_deposits([organization], each=45)
    login_as(member)
    base = f"/organizations/{organization.id}/deposits"
    client.get(base)  # the first page read in a language remembers it (one UPDATE, once)
    for url in (base, f"{base}?status=refused", f"{base}?q=fournisseur"):
        with counted() as statements:
            page = client.get(url).get_data(as_text=True)
        assert re.findall(r'<tr id="deposit-', page)
        assert reads_no_unshown_json(statements), statements
        assert len(statements) <= MAX_STATEMENTS, (url, "\n".join(s[:150] for s in statements))
    older = re.search(r'href="([^"]+before=[^"]+)"', page).group(1).replace("&amp;", "&")
    with counted() as statements:
        client.get(older)
    assert len(statements) <= MAX_STATEMENTS, statements


def _walk(ids: list[int], filters: Filters, every: int | None) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = review_page(ids, filters, after=after, size=4, all_organizations=every)
        seen += [row.id for row in page.deposits]
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": DepositStatus.REFUSED},
        {"kind": InvoiceKind.SALES},
        {"organization_id": 0},
    ],
    ids=["all", "refused", "sales", "one organization"],
)
def test_each_organization_and_the_whole_table_walk_the_same_rows(
    app: Flask, sort: str, filters: dict[str, Any]
) -> None:
    organizations = [factories.organization() for _ in range(5)]
    made = many_deposits(organizations, each=5)
    ids = [organization.id for organization in organizations[:3]]
    if "organization_id" in filters:
        filters = {"organization_id": ids[1]}
    chosen = Filters(sort=sort, **filters)
    by_organization = _walk(ids, chosen, every=1000)
    by_table = _walk(ids, chosen, every=len(ids))
    assert by_organization == by_table
    expected = [
        deposit
        for deposit in made
        if deposit.organization_id in ids
        and all(getattr(deposit, name) == value for name, value in filters.items())
    ]
    key = SORTS[sort].column.key
    expected.sort(key=lambda d: (getattr(d, key), d.id), reverse=SORTS[sort].descending)
    assert by_table == [deposit.id for deposit in expected]


SEARCHES = [
    ("électricité", {"edf"}),  # accents typed, accents stored
    ("ELECTRICITE", {"edf"}),  # neither case nor accents matter, on either database
    ("Œuvre", {"oeuvre"}),
    ("oeuvre", {"oeuvre"}),
    ("straße", {"strasse"}),
    ("STRASSE", {"strasse"}),
    ("fa-2026", {"edf", "strasse"}),  # a reference's part
    ("2026 strasse", {"strasse"}),  # every word, anywhere
    ("doc-xyz", {"oeuvre"}),  # the documentId
    ("100%", {"percent"}),  # a LIKE wildcard is searched for itself
    ("100_", set()),
    ("scan_", {"underscore"}),
    ("nothing", set()),
]


@pytest.mark.parametrize(("typed", "found"), SEARCHES)
def test_search_finds_the_same_deposits_on_sqlite_and_postgresql(
    client: FlaskClient, login_as, typed: str, found: set[str]
) -> None:
    """The suite runs on both databases (PORTAL_TEST_DATABASE_URL): one table of answers."""
    member = factories.user()
    organization = factories.organization(member)
    made = {
        "edf": factories.deposit(
            organization,
            external_reference="FA-2026-01",
            counterparty={"name": "Électricité de France"},
        ),
        "strasse": factories.deposit(
            organization, external_reference="FA-2026-02", file_name="Straße.pdf"
        ),
        "oeuvre": factories.deposit(organization, file_name="ŒUVRE.pdf", document_id="DOC-XYZ-1"),
        "percent": factories.deposit(organization, file_name="remise 100%.pdf"),
        "underscore": factories.deposit(organization, file_name="scan_12.pdf"),
    }
    names = {str(deposit.id): name for name, deposit in made.items()}
    login_as(member)
    history = client.get(f"/organizations/{organization.id}/deposits", query_string={"q": typed})
    shown = re.findall(r'<tr id="deposit-(\d+)"', history.get_data(as_text=True))
    assert {names[ident] for ident in shown} == found
    login_as(staff_of([organization]))
    review = client.get("/review/", query_string={"q": typed}).get_data(as_text=True)
    assert {names[ident] for ident in review_rows(review)} == found


def test_search_text_follows_a_document_id_set_later(app: Flask) -> None:
    organization = factories.organization()
    deposit = factories.deposit(organization, file_name="a.pdf")
    deposit.document_id = "Doc-Later-7"
    db.session.commit()
    page = review_page(None, Filters(text="later-7"), after=None, size=5)
    assert [row.id for row in page.deposits] == [deposit.id]
