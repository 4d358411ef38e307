"""The deposit page reads its one staged invoice: a Factur-X PDF fills the blank fields, each
marked; what was proposed travels with the deposit, and staff see what the user changed."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.deposits import reading
from portal.extensions import db
from portal.models import Deposit, Draft, Role
from tests import factories
from tests.app.test_deposits import connected, line
from tests.app.test_uploads import stage, token_of
from tests.support import facturx_samples as samples
from tests.support import invoices

__all__ = ["connected"]

FACTS = samples.sample("en16931", bases={"20": "1041.67", "5.5": "250.00"})
INVOICE = samples.facturx_pdf(FACTS)


def read(client: FlaskClient, organization: Any, token: str, **fields: str) -> str:
    data = {"draft": token, "kind": "purchase", **fields}
    response = client.post(f"/organizations/{organization.id}/drafts/reading", data=data)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def field_value(page: str, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', page
    )
    return found.group(1) if found else None


def test_a_facturx_invoice_fills_the_counterparty_reference_and_a_balanced_booking(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    token = token_of(stage(client, organization, INVOICE, "facture.pdf"))
    page = read(client, organization, token)
    assert "Factur-X profile EN 16931." in page
    assert field_value(page, "counterparty-name") == "Fournil Équipement SAS"
    assert field_value(page, "counterparty-siren") == "732829320"
    assert field_value(page, "counterparty-city") == "Lyon"
    assert field_value(page, "external_reference") == "FA-2026-0042"
    accounts = re.findall(r'name="lines-\d+-account"[^>]*value="([^"]*)"', page)
    assert accounts == ["607", "607", "44566", "44566", "401"]
    assert page.count('data-read-from="xml"') >= 5  # every filled field and line is marked
    assert "VAT number on the invoice: FR44732829320" in page
    draft = db.session.scalar(select(Draft).where(Draft.token == token))
    assert (
        draft.reading_state == reading.DONE
        and draft.reading["proposal"]["reference"] == "FA-2026-0042"
    )


def test_what_the_user_typed_is_never_overwritten(client: FlaskClient, connected) -> None:
    organization, _ = connected
    token = token_of(stage(client, organization, INVOICE, "facture.pdf"))
    typed = {
        "counterparty-name": "Mon fournisseur",
        "external_reference": "MA-REF",
        **line(0, debit="10,00"),
    }
    page = read(client, organization, token, **typed)
    assert (
        'name="counterparty-name"' not in page
        or field_value(page, "counterparty-name") != "Fournil Équipement SAS"
    )
    assert "The entry lines were not filled because the editor already holds lines." in page
    assert 'id="entry-lines"' not in page and 'id="reference-body"' not in page
    assert field_value(page, "counterparty-siren") == "732829320"  # a blank field is still filled


def test_an_invoice_number_already_used_is_not_proposed_as_reference(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    factories.deposit(organization, external_reference="FA-2026-0042")
    token = token_of(stage(client, organization, INVOICE, "facture.pdf"))
    page = read(client, organization, token)
    assert 'id="reference-body"' not in page
    assert re.findall(r'name="lines-\d+-reference"[^>]*value="([^"]*)"', page)[0] == "FA-2026-0042"


def test_an_invalid_xml_is_reported_and_fills_nothing(client: FlaskClient, connected) -> None:
    organization, _ = connected
    broken = samples.cii_xml(FACTS).replace(
        b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>380</ram:TypeCode><ram:Bogus/>"
    )
    token = token_of(stage(client, organization, samples.facturx_pdf(FACTS, xml=broken), "f.pdf"))
    page = read(client, organization, token)
    assert "breaks the Factur-X rules of its profile" in page
    assert "counterparty-name" not in page and "lines-0" not in page


def test_several_files_or_none_ask_nothing(client: FlaskClient, connected) -> None:
    organization, _ = connected
    first = token_of(stage(client, organization, INVOICE, "a.pdf"))
    second = token_of(stage(client, organization, invoices.pdf(text="b"), "b.pdf"))
    answer = client.post(
        f"/organizations/{organization.id}/drafts/reading", data={"draft": [first, second]}
    )
    assert answer.status_code == 200 and answer.get_data(as_text=True) == ""


def test_another_users_draft_is_not_read(client: FlaskClient, connected, login_as) -> None:
    organization, _ = connected
    token = token_of(stage(client, organization, INVOICE, "facture.pdf"))
    stranger = factories.user("stranger@example.test")
    theirs = factories.organization(stranger)
    login_as(stranger)
    answer = client.post(f"/organizations/{theirs.id}/drafts/reading", data={"draft": token})
    assert answer.get_data(as_text=True) == ""
    answer = client.post(f"/organizations/{organization.id}/drafts/reading", data={"draft": token})
    assert answer.status_code == 404


def test_staff_see_what_was_read_and_what_the_user_changed(
    app: Flask, client: FlaskClient, connected, login_as
) -> None:
    organization, member = connected
    token = token_of(stage(client, organization, INVOICE, "facture.pdf"))
    page = read(client, organization, token)
    fields = {
        key: value
        for key, value in re.findall(
            r'name="((?:lines-\d+|counterparty)-[a-z_]+)"[^>]*value="([^"]*)"', page
        )
        if not key.endswith(("-duplicate", "-remove"))  # the line buttons
    }
    fields["counterparty-name"] = "Fournil Équipement"  # the user shortens the name
    response = client.post(
        f"/organizations/{organization.id}/deposits",
        data={
            "kind": "purchase",
            "user_email": member.email,
            "draft": token,
            "external_reference": "FA-2026-0042",
            "submit": "y",
            **fields,
        },
    )
    assert response.status_code in (302, 303)
    deposit = db.session.scalar(select(Deposit).where(Deposit.organization_id == organization.id))
    assert deposit.reading["proposal"]["counterparty"]["name"] == "Fournil Équipement SAS"
    staff = factories.user("staff@cabinet.test", role=Role.STAFF)
    factories.assign(staff, organization)
    login_as(staff)
    review = client.get(f"/review/deposits/{deposit.id}").get_data(as_text=True)
    section = review[review.index('id="reading-heading"') :]
    assert "Read from the invoice&#39;s Factur-X data" in section
    assert re.search(
        r"Fournil Équipement SAS</td>\s*<td>Fournil Équipement <strong class=\"changed-mark\">changed by the user",
        section,
    )
    assert re.search(r"732829320</td>\s*<td>732829320 <span class=\"muted\">as read", section)


def test_a_photo_is_read_by_ocr_in_the_background_and_the_form_asks_again(
    app: Flask, client: FlaskClient, connected
) -> None:
    from portal.deposits.worker import Sender
    from tests.support import invoice_corpus

    organization, _ = connected
    content, expected = invoice_corpus.classic_invoice(seed=3)
    token = token_of(stage(client, organization, invoice_corpus.photo_of(content), "photo.jpg"))
    waiting = read(client, organization, token)
    assert "Reading photo.jpg" in waiting and 'data-hx-trigger="load delay:2s"' in waiting
    assert "counterparty-name" not in waiting  # the user may send meanwhile: nothing is filled
    Sender(app).run_once()  # the sender's OCR step, as in the background
    page = read(client, organization, token)
    assert "Read from the photo of the invoice" in page
    assert field_value(page, "external_reference") == expected["number"]
    amounts = re.findall(r'name="lines-\d+-(?:debit|credit)"[^>]*value="([^"]*)"', page)
    assert any(amounts), "a balanced booking from the photo's totals"


def test_a_photo_that_cannot_be_read_never_blocks_the_deposit(
    app: Flask, client: FlaskClient, connected
) -> None:
    from portal.deposits.worker import Sender

    organization, member = connected
    token = token_of(stage(client, organization, invoices.jpeg(), "blank.jpg"))
    read(client, organization, token)
    Sender(app).run_once()
    page = read(client, organization, token)
    assert "No invoice data could be read from blank.jpg" in page
    response = client.post(
        f"/organizations/{organization.id}/deposits",
        data={"kind": "purchase", "user_email": member.email, "draft": token, "submit": "y"},
    )
    assert response.status_code in (302, 303)
