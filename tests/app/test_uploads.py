"""Drafts, several files, photos, corrections, the receipt and the history's search, through the
app with a real sandbox behind it."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pypdf
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.deposits import drafts
from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Draft, utcnow
from tests import factories
from tests.app.test_deposits import (
    connected,
    deposit_form,
    line,
    post_multipart,
    send,
    stored_files,
)
from tests.support import invoices

__all__ = ["connected"]  # the fixture, shared with the deposit tests


def stage(client: FlaskClient, organization: Any, content: bytes, name: str, **form: str):
    return post_multipart(
        client,
        f"/organizations/{organization.id}/drafts",
        {"invoice_file": (io.BytesIO(content), name), **form},
    )


def token_of(response: Any) -> str:
    text = response.get_data(as_text=True)
    return re.search(r'name="(?:photo_)?draft" value="([^"]+)"', text).group(1)


def test_a_staged_file_is_checked_stored_and_named_by_an_opaque_token(
    app: Flask, client: FlaskClient, connected
) -> None:
    organization, member = connected
    content = invoices.pdf(text="staged")
    response = stage(client, organization, content, "facture.pdf")
    assert response.status_code == 200
    token = token_of(response)
    draft = db.session.scalars(select(Draft)).one()
    assert draft.token == token and len(token) >= 32
    assert draft.user_id == member.id and draft.organization_id == organization.id
    assert draft.file_name == "facture.pdf" and draft.deposit_id is None
    assert FileStore(app.config["STORAGE_DIR"]).path_for(draft.storage_key).read_bytes() == content
    assert "Ready to send" in response.get_data(as_text=True)


def test_a_wrong_file_is_refused_at_staging_and_nothing_is_stored(
    app: Flask, client: FlaskClient, connected
) -> None:
    organization, _ = connected
    response = stage(client, organization, invoices.png(), "facture.pdf")
    assert response.status_code == 422
    assert "This file is a PNG image" in response.get_data(as_text=True)
    assert db.session.scalars(select(Draft)).first() is None
    assert stored_files(app) == []


def test_a_form_error_keeps_the_file_and_send_needs_no_new_choice(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    first = send(client, organization, deposit_form(user_email="not an address"))
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert "invoice.pdf" in page and "Check these fields before sending" in page
    token = token_of(first)
    data = deposit_form(user_email="owner@boulangerie.test", draft=token)
    del data["invoice_file"]
    second = send(client, organization, data)
    assert second.status_code == 303
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.file_name == "invoice.pdf"
    assert db.session.scalars(select(Draft)).one().deposit_id == deposit.id
    assert [doc.sha256 for doc in sandbox.state.documents()] == [deposit.sha256]


def test_another_users_draft_token_names_nothing(client: FlaskClient, connected, login_as) -> None:
    organization, _ = connected
    token = token_of(stage(client, organization, invoices.pdf(), "a.pdf"))
    stranger = factories.user(email="stranger@example.test")
    other = factories.organization(stranger, name="Autre")
    login_as(stranger)
    data = deposit_form(draft=token)
    del data["invoice_file"]
    response = send(client, other, data)
    assert response.status_code == 422
    assert "Choose the invoice file to send." in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None


def test_several_files_without_script_become_several_deposits(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    contents = [invoices.pdf(text=f"f{n}") for n in range(3)]
    data = deposit_form(comment="Lot de mars")
    data["invoice_file"] = [
        (io.BytesIO(content), f"f-{n}.pdf") for n, content in enumerate(contents)
    ]
    response = send(client, organization, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organizations/{organization.id}/deposits")
    deposits = db.session.scalars(select(Deposit).order_by(Deposit.id)).all()
    assert [d.file_name for d in deposits] == ["f-0.pdf", "f-1.pdf", "f-2.pdf"]
    assert {d.comment for d in deposits} == {"Lot de mars"}
    assert len({d.external_reference for d in deposits}) == 3
    assert all(d.status is DepositStatus.QUEUED for d in deposits)  # the sender sends them


def test_per_invoice_details_with_several_files_are_refused_and_change_nothing(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    data = deposit_form(external_reference="FA-1", **line(0, debit="10"))
    data["invoice_file"] = [(io.BytesIO(invoices.pdf(text=str(n))), f"{n}.pdf") for n in (1, 2)]
    response = send(client, organization, data)
    assert response.status_code == 422
    assert "belong to one invoice" in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None
    assert len(db.session.scalars(select(Draft)).all()) == 2  # kept for the next Send


def test_more_than_fifty_files_are_refused(client: FlaskClient, connected) -> None:
    organization, _ = connected
    tokens = [token_of(stage(client, organization, invoices.png(), f"{n}.png")) for n in range(51)]
    data = deposit_form(draft=tokens)
    del data["invoice_file"]
    response = send(client, organization, data)
    assert response.status_code == 422
    assert "Send at most 50 files at once." in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None


def test_a_used_draft_posted_again_finds_its_deposit(client: FlaskClient, connected) -> None:
    organization, _ = connected
    token = token_of(stage(client, organization, invoices.pdf(), "a.pdf"))
    data = deposit_form(draft=token)
    del data["invoice_file"]
    first = send(client, organization, data)
    second = send(client, organization, data)
    assert second.headers["Location"] == first.headers["Location"]
    assert len(db.session.scalars(select(Deposit)).all()) == 1


def test_a_restored_form_with_another_file_makes_a_new_deposit(
    client: FlaskClient, connected
) -> None:
    """The second-click guard compares the bytes: a different invoice is never swallowed."""
    organization, _ = connected
    key = "OCP-20261202-AAAAAAAAAAAA"
    first = send(
        client, organization, deposit_form(invoices.pdf(text="one"), generated_reference=key)
    )
    second = send(
        client, organization, deposit_form(invoices.pdf(text="two"), generated_reference=key)
    )
    assert first.headers["Location"] != second.headers["Location"]
    references = db.session.scalars(select(Deposit.external_reference).order_by(Deposit.id)).all()
    assert references[0] == key and references[1] != key


def test_photos_posted_without_script_are_joined_into_one_pdf(
    app: Flask, client: FlaskClient, connected
) -> None:
    organization, _ = connected
    data = deposit_form()
    del data["invoice_file"]
    pages = [invoices.jpeg(color="white"), invoices.jpeg(color="grey")]
    data["photo_pages"] = [(io.BytesIO(page), f"p{n}.jpg") for n, page in enumerate(pages)]
    assert send(client, organization, data).status_code == 303
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.file_name == "photos.pdf" and deposit.media_type == "application/pdf"
    content = FileStore(app.config["STORAGE_DIR"]).path_for(deposit.storage_key).read_bytes()
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 2
    assert all(page in content for page in pages)


def test_photo_drafts_are_joined_on_request(client: FlaskClient, connected) -> None:
    organization, _ = connected
    tokens = [
        token_of(stage(client, organization, invoices.jpeg(color=color), "p.jpg", photo="1"))
        for color in ("white", "grey")
    ]
    joined = post_multipart(
        client, f"/organizations/{organization.id}/drafts/join", {"draft": tokens}
    )
    assert joined.status_code == 200
    assert "photos.pdf" in joined.get_data(as_text=True)
    remaining = db.session.scalars(select(Draft)).all()
    assert [draft.file_name for draft in remaining if draft.token in tokens] == []


def test_unused_drafts_are_deleted_after_a_day_used_ones_keep_their_file(
    app: Flask, client: FlaskClient, connected
) -> None:
    organization, _ = connected
    store = FileStore(app.config["STORAGE_DIR"])
    unused = token_of(stage(client, organization, invoices.pdf(text="u"), "unused.pdf"))
    data = deposit_form()
    send(client, organization, data)
    deposit = db.session.scalars(select(Deposit)).one()
    unused_key = db.session.scalars(select(Draft).where(Draft.token == unused)).one().storage_key
    assert drafts.purge_expired(store) == 0
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        assert drafts.purge_expired(store) == 2
    assert db.session.scalars(select(Draft)).first() is None
    assert not store.path_for(unused_key).exists()
    assert store.path_for(deposit.storage_key).exists()


def test_a_refused_deposit_is_corrected_with_its_file_and_a_new_reference(
    app: Flask, client: FlaskClient, connected
) -> None:
    organization, member = connected
    content = invoices.pdf(text="refused")
    refused = factories.deposit(
        organization,
        status=DepositStatus.REFUSED,
        rejection_reason="TVA manquante",
        content=content,
        comment="Mars",
        external_reference="FA-9",
        created_by=member,
        entries={
            "data": {
                "lines": [
                    {
                        "date": "2026-03-09T00:00:00.000Z",
                        "journal": "ACH",
                        "account": "601",
                        "reference": "FA-9",
                        "debit": {
                            "amount": 12.5,
                            "currency": "EUR",
                            "currencyAmount": 12.5,
                            "currencyRate": 1,
                        },
                        "credit": {
                            "amount": 0,
                            "currency": "EUR",
                            "currencyAmount": 0,
                            "currencyRate": 1,
                        },
                    }
                ]
            }
        },
        counterparty={"name": "Moulins Dupont", "siren": "732829320"},
    )
    page = client.get(f"/deposits/{refused.id}/correct").get_data(as_text=True)
    assert "You are correcting a refused deposit" in page
    assert "\nMars</textarea>" in page
    assert 'value="Moulins Dupont"' in page and 'value="732829320"' in page
    assert re.search(r'name="lines-0-account"[^>]*value="601"', page)
    # The line keeps the invoice number the user typed; the deposit gets a new reference.
    assert re.search(r'name="lines-0-reference"[^>]*value="FA-9"', page)
    assert 'name="correction_file" value="1"' in page
    generated = re.search(r'name="generated_reference" type="hidden" value="([^"]+)"', page).group(
        1
    )
    form = {
        "kind": "purchase",
        "user_email": member.email,
        "comment": "Mars, TVA ajoutée",
        "generated_reference": generated,
        "correction_of": str(refused.id),
        "correction_file": "1",
        "counterparty-name": "Moulins Dupont",
        **line(0, account="601", debit="12,50", reference=generated),
        **line(1, account="401", credit="12,50", reference=generated),
    }
    response = post_multipart(client, f"/organizations/{organization.id}/deposits", form)
    assert response.status_code == 303
    correction = db.session.scalars(select(Deposit).where(Deposit.id != refused.id)).one()
    assert correction.correction_of_id == refused.id
    assert correction.external_reference == generated != refused.external_reference
    stored = FileStore(app.config["STORAGE_DIR"])
    assert stored.path_for(correction.storage_key).read_bytes() == content
    assert correction.storage_key != refused.storage_key
    back = client.get(f"/deposits/{refused.id}").get_data(as_text=True)
    assert f"/deposits/{correction.id}" in back
    assert f"/deposits/{refused.id}" in client.get(f"/deposits/{correction.id}").get_data(
        as_text=True
    )


def test_the_refused_file_is_copied_once_and_can_be_taken_out(
    client: FlaskClient, connected
) -> None:
    organization, member = connected
    refused = factories.deposit(
        organization, status=DepositStatus.REFUSED, created_by=member, content=invoices.pdf()
    )
    form = {
        "kind": "purchase",
        "user_email": "not an address",
        "generated_reference": "OCP-20261202-BBBBBBBBBBBB",
        "correction_of": str(refused.id),
        "correction_file": "1",
    }
    first = post_multipart(client, f"/organizations/{organization.id}/deposits", form)
    assert first.status_code == 422
    token = token_of(first)
    assert 'name="correction_file"' not in first.get_data(as_text=True)
    again = {**form, "draft": token}
    del again["correction_file"]
    assert (
        post_multipart(client, f"/organizations/{organization.id}/deposits", again).status_code
        == 422
    )
    assert len(db.session.scalars(select(Draft)).all()) == 1  # copied once, then named
    taken_out = {**form, "discard_draft": "correction", "user_email": member.email}
    del taken_out["correction_file"]
    page = post_multipart(client, f"/organizations/{organization.id}/deposits", taken_out)
    assert refused.file_name not in re.findall(
        r'class="draft-name">([^<]+)<', page.get_data(as_text=True)
    )


def test_only_a_refused_deposit_can_be_corrected(client: FlaskClient, connected) -> None:
    organization, _ = connected
    sent = factories.deposit(organization, status=DepositStatus.SENT)
    assert client.get(f"/deposits/{sent.id}/correct").status_code == 404
    assert "Correct and send again" not in client.get(f"/deposits/{sent.id}").get_data(as_text=True)


def test_the_receipt_is_a_pdf_naming_the_deposit(client: FlaskClient, connected) -> None:
    organization, _ = connected
    deposit = factories.deposit(organization, document_id="doc-123", sha256="ab" * 32)
    response = client.get(f"/deposits/{deposit.id}/receipt")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "doc-123" in text and "ab" * 32 in text and deposit.external_reference in text


def test_the_history_searches_names_references_documents_and_counterparties(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    factories.deposit(organization, file_name="edf-mars.pdf", external_reference="FA-100")
    factories.deposit(organization, file_name="orange.pdf", document_id="DOC-77")
    factories.deposit(organization, file_name="x.pdf", counterparty_name="Moulins Dupont")
    factories.deposit(organization, file_name="100%_sure.pdf")

    def found(typed: str) -> set[str]:
        page = client.get(f"/organizations/{organization.id}/deposits", query_string={"q": typed})
        names = re.findall(r'<a href="/deposits/\d+">([^<]+)</a>', page.get_data(as_text=True))
        return set(names)

    assert found("EDF") == {"edf-mars.pdf"}
    assert found("fa-100") == {"edf-mars.pdf"}
    assert found("doc-77") == {"orange.pdf"}
    assert found("moulins dup") == {"x.pdf"}
    assert found("100%") == {"100%_sure.pdf"}
    assert found("_") == {"100%_sure.pdf"}
    assert found("nothing") == set()


def test_the_history_shows_counterparty_amount_and_invoice_date(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    data = deposit_form(
        **{"counterparty-name": "Moulins Dupont"},
        **line(0, date="2026-03-09", debit="1 234,50"),
        **line(1, date="2026-03-10", credit="1 234,50", account="401"),
    )
    assert send(client, organization, data).status_code == 303
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.counterparty_name == "Moulins Dupont"
    assert str(deposit.total_debit) == "1234.50"
    assert deposit.invoice_date.isoformat() == "2026-03-09"
    page = client.get(f"/organizations/{organization.id}/deposits").get_data(as_text=True)
    assert "Moulins Dupont" in page and "1,234.50" in page and "Mar 9, 2026" in page


def test_a_draft_adopted_meanwhile_is_never_deposited_twice(app: Flask, connected) -> None:
    """Two posts of one form at once: the second finds the draft taken, and its deposit."""
    from sqlalchemy.orm.attributes import set_committed_value

    from portal.deposits import services

    organization, member = connected
    command = factories.deposit_command(organization, member, invoices.pdf())
    draft = command.draft
    first = services.queue_deposit(organization, command, actor=member)
    set_committed_value(draft, "deposit_id", None)  # as the concurrent request read it
    try:
        services.queue_deposit(organization, command, actor=member)
    except services.DraftAlreadyUsed as used:
        assert used.earlier(organization).id == first.id
    else:
        raise AssertionError("the draft was adopted twice")
    assert len(db.session.scalars(select(Deposit)).all()) == 1


def test_several_files_of_one_form_get_references_from_it(client: FlaskClient, connected) -> None:
    organization, _ = connected
    key = "OCP-20261202-CCCCCCCCCCCC"
    data = deposit_form(generated_reference=key)
    data["invoice_file"] = [(io.BytesIO(invoices.pdf(text=str(n))), f"{n}.pdf") for n in (1, 2)]
    assert send(client, organization, data).status_code == 303
    references = db.session.scalars(select(Deposit.external_reference)).all()
    assert len(references) == 2 and all(ref.startswith(f"{key}-") for ref in references)
