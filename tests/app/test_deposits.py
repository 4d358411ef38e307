import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from portal import create_app
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Organization, OrganizationStatus, Role
from portal.oneconnect import spec
from tests import factories
from tests.conftest import app_config
from tests.support import invoices


@pytest.fixture
def connected(app: Flask, sandbox, login_as) -> tuple[Organization, Any]:
    """A member signed in, owning an organization connected to a real sandbox integration."""
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    member = factories.user(email="owner@boulangerie.test")
    organization = factories.organization(member, integration_id=integration_id, secret=secret)
    login_as(member)
    return organization, member


def line(index: int, **fields: str) -> dict[str, str]:
    values = {
        "date": "2026-03-09",
        "journal": "ACH",
        "account": "60100000",
        "debit": "",
        "credit": "",
        "reference": "FA-2026-042",
        "label": "",
    }
    values.update(fields)
    return {f"lines-{index}-{name}": value for name, value in values.items()}


def deposit_form(content: bytes = b"", name: str = "invoice.pdf", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "purchase",
        "user_email": "owner@boulangerie.test",
        "comment": "",
        "external_reference": "",
        "invoice_file": (io.BytesIO(content or invoices.pdf()), name),
    }
    data.update(fields)
    return data


def post_multipart(client: FlaskClient, path: str, data: dict[str, Any]):
    """POST a multipart form, closing the body werkzeug spools to disk for large uploads."""
    builder = EnvironBuilder(
        path=path, method="POST", data=data, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def send(client: FlaskClient, organization: Organization, data: dict[str, Any]):
    return post_multipart(client, f"/organizations/{organization.id}/deposits", data)


def stored_files(app: Flask) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_deposit_form_has_the_contract_labels(client: FlaskClient, connected) -> None:
    organization, _ = connected
    page = client.get(f"/organizations/{organization.id}/deposits/new").get_data(as_text=True)
    for field_id, label in [
        ("kind", "Invoice type"),
        ("invoice_file", "Invoice file"),
        ("user_email", "User email"),
        ("comment", "Comment"),
        ("external_reference", "External reference"),
    ]:
        assert f'<label for="{field_id}">{label}</label>' in page
    assert ">Purchase</option>" in page and ">Sales</option>" in page
    assert ">Add line</button>" in page and ">Send</button>" in page
    assert 'value="owner@boulangerie.test"' in page


def test_a_deposit_with_two_lines_reaches_the_sandbox_exactly_as_the_api_expects(
    app: Flask, client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    content = invoices.pdf()
    data = deposit_form(
        content,
        "Facture mars.pdf",
        kind="sales",
        comment="Monthly billing",
        external_reference="INV-2026-042",
        **line(0, debit="1 234,56", label="Client Dupont", account="41100000", journal="VTE"),
        **line(1, credit="1234.56", account="70600000", journal="VTE"),
    )
    response = send(client, organization, data)
    assert response.status_code == 303, response.get_data(as_text=True)

    [document] = sandbox.state.documents(organization.integration_id)
    assert document.kind == "sales"
    assert document.filename == "Facture mars.pdf"
    assert document.size == len(content)
    assert document.user_email == "owner@boulangerie.test"
    assert document.comment == "Monthly billing"
    assert document.external_reference == "INV-2026-042"
    assert document.organization is None
    first, second = document.entries["data"]["lines"]
    assert first == {
        "date": "2026-03-09T00:00:00.000Z",
        "debit": {
            "amount": 1234.56,
            "currency": "EUR",
            "currencyAmount": 1234.56,
            "currencyRate": 1,
        },
        "credit": {"amount": 0, "currency": "EUR", "currencyAmount": 0, "currencyRate": 1},
        "journal": "VTE",
        "account": "41100000",
        "reference": "FA-2026-042",
        "label": "Client Dupont",
    }
    assert second["credit"]["amount"] == 1234.56 and second["debit"]["amount"] == 0

    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.status is DepositStatus.SENT
    assert deposit.document_id == document.document_id
    assert deposit.attempts == 1
    assert response.headers["Location"] == f"/deposits/{deposit.id}"
    page = client.get(f"/deposits/{deposit.id}").get_data(as_text=True)
    assert document.document_id in page and "Sent" in page and "1,234.56" in page
    assert len(stored_files(app)) == 1


def test_a_blank_reference_is_generated_so_the_deposit_can_be_retried_safely(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    send(client, organization, deposit_form())
    deposit = db.session.scalars(select(Deposit)).one()
    assert spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(deposit.external_reference)
    assert deposit.external_reference_generated
    [document] = sandbox.state.documents()
    assert document.external_reference == deposit.external_reference
    assert document.entries is None


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (invoices.png(), "invoice.pdf", "This file is a PNG image, but its name ends in “.pdf”"),
        (invoices.zip_archive(), "invoice.zip", "This file is application/zip"),
        (b"just some text", "invoice.pdf", "This file is text"),
        (invoices.oversize_pdf(), "big.pdf", "larger than 5 MB"),
    ],
)
def test_a_bad_file_gets_a_clear_error_and_changes_nothing(
    app: Flask, client: FlaskClient, connected, sandbox, content: bytes, name: str, message: str
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(content, name))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None
    assert stored_files(app) == []
    assert sandbox.state.documents() == []


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    # One file goes up at a time as soon as it is chosen: its request is capped near 5 MB.
    response = post_multipart(
        client,
        f"/organizations/{organization.id}/drafts",
        {"invoice_file": (io.BytesIO(b"%PDF-" + b"0" * 13_000_000), "huge.pdf")},
    )
    assert response.status_code == 413
    assert "at most 5 MB" in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None
    assert stored_files(client.application) == []


def test_the_form_without_script_refuses_a_body_over_its_own_cap(
    app: Flask, client: FlaskClient, connected
) -> None:
    """The form posted without script carries every file at once, so its cap is the files'."""
    organization, _ = connected
    app.config["MAX_FORM_BYTES"] = 8_000_000
    response = send(client, organization, deposit_form(b"%PDF-" + b"0" * 9_000_000, "huge.pdf"))
    assert response.status_code == 413
    assert db.session.scalars(select(Deposit)).first() is None
    assert stored_files(app) == []


def test_an_oversize_file_in_the_form_is_refused_in_words(client: FlaskClient, connected) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(b"%PDF-" + b"0" * 6_000_000, "huge.pdf"))
    assert response.status_code == 422
    assert "huge.pdf: The file is larger than 5 MB" in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"debit": "100", "credit": "100"}, "either in Debit or in Credit"),
        ({"debit": "", "credit": ""}, "either in Debit or in Credit"),
        ({"debit": "12,345"}, "Type an amount such as"),
        ({"debit": "abc"}, "Type an amount such as"),
        ({"debit": "-5"}, "Amounts are positive"),
        ({"debit": "10", "account": ""}, "Enter an account"),
        ({"debit": "10", "date": ""}, "Enter the entry date"),
        ({"debit": "10", "reference": ""}, "Enter the line reference"),
        ({"debit": "10", "journal": ""}, "Enter a journal code"),
    ],
)
def test_a_malformed_line_is_shown_on_that_line_and_nothing_is_sent(
    client: FlaskClient, connected, sandbox, fields: dict[str, str], message: str
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, **fields)))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).first() is None
    assert sandbox.state.documents() == []


@pytest.mark.parametrize("reference", ["has space", "accentué", "x" * 65, "semi;colon"])
def test_an_external_reference_breaking_the_api_rule_is_refused(
    client: FlaskClient, connected, sandbox, reference: str
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(external_reference=reference))
    assert response.status_code == 422
    assert "Use up to 64 letters" in response.get_data(as_text=True)
    assert sandbox.state.documents() == []


def test_a_reference_already_used_here_is_refused_before_sending(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    send(client, organization, deposit_form(external_reference="FA-1"))
    response = send(client, organization, deposit_form(external_reference="FA-1"))
    assert response.status_code == 422
    assert "You already used the reference FA-1" in response.get_data(as_text=True)
    assert len(sandbox.state.documents()) == 1


def test_a_reference_already_known_upstream_shows_the_existing_document_and_date(
    app: Flask, client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    secret = app.extensions["secret_box"].decrypt(organization.integration_secret_encrypted)
    existing = app.extensions["oneconnect"].import_invoice(
        organization.integration_id,
        secret,
        "purchase",
        file=invoices.pdf(),
        filename="other.pdf",
        media_type="application/pdf",
        external_reference="FA-9",
    )
    response = send(client, organization, deposit_form(external_reference="FA-9"))
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.status is DepositStatus.DUPLICATE
    assert deposit.document_id == existing.document_id
    assert deposit.deposit_date is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Duplicate" in page
    assert f"document {existing.document_id}, deposited on" in page


def test_a_revoked_integration_fails_the_deposit_and_blocks_new_ones(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    sandbox.state.revoke_integration(organization.integration_id, "SMB Closed")
    send(client, organization, deposit_form())
    deposit = db.session.scalars(select(Deposit)).one()
    db.session.refresh(organization)
    assert deposit.status is DepositStatus.FAILED
    assert "the company was closed" in str(deposit.last_error)
    assert organization.status is OrganizationStatus.REVOKED
    assert organization.revocation_reason == "SMB Closed"
    response = send(client, organization, deposit_form())
    assert response.status_code == 422
    assert "Reconnect it" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Deposit)).all()) == 1


def test_a_business_error_revokes_the_organization(client: FlaskClient, connected, sandbox) -> None:
    organization, _ = connected
    sandbox.state.set_business_error(organization.integration_id, spec.SMB_NOTFOUND)
    send(client, organization, deposit_form())
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.REVOKED
    assert organization.revocation_reason == "SMB not Found"
    assert db.session.scalars(select(Deposit)).one().status is DepositStatus.FAILED


def test_an_unreachable_upstream_keeps_the_deposit_queued_with_a_retry(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    sandbox.stop()
    response = send(client, organization, deposit_form())
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.status is DepositStatus.QUEUED
    assert "could not be reached" in str(deposit.last_error)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Queued" in page and ">Retry</button>" in page


def test_the_owner_downloads_the_original_file(app: Flask, client: FlaskClient, connected) -> None:
    organization, _ = connected
    content = invoices.pdf()
    send(client, organization, deposit_form(content, "électricité.pdf"))
    deposit = db.session.scalars(select(Deposit)).one()
    with client.get(f"/deposits/{deposit.id}/file") as response:
        assert response.status_code == 200
        assert response.data == content
        assert "attachment" in response.headers["Content-Disposition"]
        assert "lectricit" in response.headers["Content-Disposition"]


def test_another_members_deposit_urls_answer_404(client: FlaskClient, login_as) -> None:
    theirs = factories.organization(factories.user())
    deposit = factories.deposit(theirs)
    login_as(factories.user())
    for url in (
        f"/deposits/{deposit.id}",
        f"/deposits/{deposit.id}/file",
        f"/deposits/{deposit.id}/row",
        f"/organizations/{theirs.id}/deposits",
        f"/organizations/{theirs.id}/deposits/new",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/deposits/{deposit.id}/retry").status_code == 404
    assert send(client, theirs, deposit_form()).status_code == 404


def test_staff_cannot_deposit(client: FlaskClient, login_as) -> None:
    organization = factories.organization(factories.user())
    staff = factories.user(role=Role.STAFF)
    factories.assign(staff, organization)
    login_as(staff)
    assert client.get(f"/organizations/{organization.id}/deposits").status_code == 200
    assert client.get(f"/organizations/{organization.id}/deposits/new").status_code == 403
    assert send(client, organization, deposit_form()).status_code == 403


def test_add_line_returns_one_blank_line_with_the_next_index(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    response = client.post(
        f"/organizations/{organization.id}/deposits/lines",
        data={**line(0, debit="10"), **line(3, credit="10")},
        headers={"HX-Request": "true"},
    )
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="lines-4-date"' in fragment
    assert "<html" not in fragment
    for label in ("Date", "Journal", "Account", "Debit", "Credit", "Reference", "Label"):
        assert f'<label for="lines-4-{label.lower()}">{label}</label>' in fragment
    assert ">Remove</button>" in fragment


def test_without_script_add_line_and_remove_rebuild_the_form(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    data = deposit_form(
        **line(0, debit="10", reference="KEEP-1"), **line(1, credit="10", reference="DROP-2")
    )
    data["add_line"] = "y"
    page = send(client, organization, data).get_data(as_text=True)
    assert 'id="lines-2-date"' in page
    data = deposit_form(
        **line(0, debit="10", reference="KEEP-1"), **line(1, credit="10", reference="DROP-2")
    )
    data["lines-1-remove"] = "y"
    page = send(client, organization, data).get_data(as_text=True)
    assert "KEEP-1" in page and "DROP-2" not in page
    assert sandbox.state.documents() == []


def test_a_generated_reference_is_unique_and_valid() -> None:
    from portal.deposits.services import generate_reference

    references = {generate_reference() for _ in range(200)}
    assert len(references) == 200
    assert all(re.fullmatch(spec.EXTERNAL_REFERENCE_PATTERN, ref) for ref in references)


def test_a_transient_failure_keeps_the_deposit_and_retry_sends_it_once(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    sandbox.state.faults.fail_next(1, status=503)
    response = send(client, organization, deposit_form(external_reference="FA-RETRY"))
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.status is DepositStatus.QUEUED
    assert sandbox.state.documents() == []
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "OneConnect is unavailable for now (HTTP 503). The portal will send the invoice again "
        "automatically." in detail
    )
    assert ">Retry</button>" in detail

    client.post(f"/deposits/{deposit.id}/retry")
    db.session.refresh(deposit)
    assert deposit.status is DepositStatus.SENT
    assert deposit.attempts == 2
    [document] = sandbox.state.documents()
    assert document.external_reference == "FA-RETRY"
    assert deposit.document_id == document.document_id
    assert client.post(f"/deposits/{deposit.id}/retry").status_code == 303
    assert len(sandbox.state.documents()) == 1


def test_a_validation_error_from_upstream_fails_the_deposit_in_plain_words(
    app: Flask, connected, sandbox
) -> None:
    """Rules only the upstream knows still reach the user as words (a line the form cannot make)."""
    from portal.deposits import delivery
    from portal.deposits.storage import FileStore

    organization, _ = connected
    deposit = factories.deposit(organization, status=DepositStatus.QUEUED, attempts=0)
    deposit.entries = {"data": {"lines": [{"date": "2026-03-09T00:00:00.000Z"}]}}
    db.session.commit()
    delivery.deliver(
        deposit.id,
        delivery.claim_deposit(deposit.id, "test"),
        client=app.extensions["oneconnect"],
        secret_box=app.extensions["secret_box"],
        store=FileStore(app.config["STORAGE_DIR"]),
    )
    assert deposit.status is DepositStatus.FAILED
    assert str(deposit.last_error).startswith("OneConnect refused the deposit:")
    assert "line 1" in str(deposit.last_error)
    assert sandbox.state.documents() == []


def test_sign_in_is_rate_limited_per_address(database_url: str, tmp_path: Path, sandbox) -> None:
    limited = create_app(app_config(database_url, tmp_path, sandbox, RATELIMIT_ENABLED=True))
    client = limited.test_client()
    statuses = [
        client.post("/login", data={"email": "x@example.test", "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert "Too many attempts" in client.post("/login", data={}).get_data(as_text=True)
    with limited.app_context():
        db.engine.dispose()


def test_a_second_click_on_send_does_not_make_a_second_deposit(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    page = client.get(f"/organizations/{organization.id}/deposits/new").get_data(as_text=True)
    generated = re.search(r'name="generated_reference" type="hidden" value="([^"]+)"', page).group(
        1
    )
    content = invoices.pdf()
    first = send(client, organization, deposit_form(content, generated_reference=generated))
    second = send(client, organization, deposit_form(content, generated_reference=generated))
    assert second.headers["Location"] == first.headers["Location"]
    assert len(db.session.scalars(select(Deposit)).all()) == 1
    assert len(sandbox.state.documents()) == 1
    assert db.session.scalars(select(Deposit)).one().external_reference == generated


def test_enter_in_a_field_sends_the_form_rather_than_editing_lines(
    client: FlaskClient, connected
) -> None:
    organization, _ = connected
    page = client.get(f"/organizations/{organization.id}/deposits/new").get_data(as_text=True)
    form = page[page.index("deposit-form") :]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'name="submit"' in first_button


def test_an_editor_of_two_hundred_lines_is_accepted(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    lines: dict[str, str] = {}
    for index in range(200):
        side = {"debit": "1,00"} if index % 2 == 0 else {"credit": "1,00"}
        lines.update(line(index, **side))
    response = send(client, organization, deposit_form(**lines))
    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert response.status_code == 303, (response.status_code, errors[:5])
    assert sandbox.state.documents()[0].line_count == 200


def test_an_amount_too_large_for_exact_json_is_refused(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    response = send(client, organization, deposit_form(**line(0, debit="123456789012345678,91")))
    assert response.status_code == 422
    assert sandbox.state.documents() == []


def test_more_lines_than_a_deposit_holds_are_refused_not_cut(
    client: FlaskClient, connected, sandbox
) -> None:
    organization, _ = connected
    lines: dict[str, str] = {}
    for index in range(501):
        lines.update(line(index, **({"debit": "1,00"} if index % 2 == 0 else {"credit": "1,00"})))
    response = send(client, organization, deposit_form(confirm_unbalanced="y", **lines))
    assert response.status_code == 422
    assert "at most 500 lines" in response.get_data(as_text=True)
    assert sandbox.state.documents() == []
