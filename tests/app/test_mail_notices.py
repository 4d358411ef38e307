"""The notices the portal e-mails (a refusal, a failed deposit, a revoked integration), read
back from a real SMTP server: recipients, subject, both bodies, links, headers."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.deposits import delivery
from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.models import (
    Deposit,
    DepositStatus,
    MailStatus,
    Membership,
    Organization,
    User,
    utcnow,
)
from portal.oneconnect import spec
from portal.organizations.services import mark_revoked
from tests import factories
from tests.app.test_webhooks import cloud_event, decision, deliver
from tests.support.mail import BASE_URL, app, rows, send_all

__all__ = ["app"]  # the fixture: this module's portal sends mail to the test's SMTP server


@pytest.fixture
def member(app: Flask) -> User:
    return factories.user("sophie@boulangerie.test", locale="en")


@pytest.fixture
def organization(app: Flask, sandbox: Any, member: User) -> Organization:
    integration_id, secret = sandbox.state.create_integration("Boulangerie")
    return factories.organization(
        member, name="Boulangerie Lefebvre", integration_id=integration_id, secret=secret
    )


def sent_deposit(organization: Organization, member: User, **fields: Any) -> Deposit:
    return factories.deposit(
        organization,
        status=DepositStatus.SENT,
        document_id=str(uuid.uuid4()),
        created_by=member,
        attempts=1,
        **fields,
    )


def refusal(deposit: Deposit, reason: str = "Missing VAT number", **extra: Any) -> dict[str, Any]:
    return decision(deposit, "Refused", data={"rejectionReason": reason}, **extra)


def test_a_refusal_delivered_three_times_sends_one_email_with_reason_and_link(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User
) -> None:
    deposit = sent_deposit(organization, member, file_name="facture-edf-mars.pdf")
    event = refusal(deposit, "Le numéro de TVA du client est absent.")
    statuses = [deliver(client, sandbox, event).status_code for _ in range(3)]
    assert statuses == [202, 200, 200]
    # The same refusal told again under another event id (later) is still one refusal.
    later = refusal(deposit, "Le numéro de TVA du client est absent.", time=utcnow())
    assert deliver(client, sandbox, later).status_code == 202
    assert send_all() == 1
    assert send_all() == 0

    (mail,) = smtp.messages()
    assert mail.envelope_to == ("sophie@boulangerie.test",)
    assert mail.subject == "Invoice refused: facture-edf-mars.pdf"
    link = f"{BASE_URL}/deposits/{deposit.id}"
    for body in (mail.text, mail.html):
        assert "Le numéro de TVA du client est absent." in body
        assert link in body
        assert "Boulangerie Lefebvre" in body
    assert "Correct and send again" in mail.text
    assert mail.message.is_multipart()
    assert [part.get_content_type() for part in mail.message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    unsubscribe = mail.header("List-Unsubscribe")
    assert re.fullmatch(rf"<{BASE_URL}/settings/unsubscribe/[\w.-]+>", unsubscribe)
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.header("From") == "Portail <portal@cabinet.example>"
    assert mail.header("Content-Language") == "en"
    (row,) = rows()
    assert row.status is MailStatus.SENT and row.message_id == mail.header("Message-ID")


def test_the_deposit_link_in_the_email_opens_the_deposit(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User, login_as
) -> None:
    deposit = sent_deposit(organization, member)
    deliver(client, sandbox, refusal(deposit))
    send_all()
    (mail,) = smtp.messages()
    path = re.search(rf"{BASE_URL}(/deposits/\d+)", mail.text).group(1)
    login_as(member)
    page = client.get(path)
    assert page.status_code == 200
    assert deposit.file_name in page.get_data(as_text=True)
    assert "Missing VAT number" in page.get_data(as_text=True)


def test_the_refusal_speaks_the_language_of_the_pages_the_member_last_read(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User, login_as
) -> None:
    member.locale = None
    db.session.commit()
    login_as(member)
    client.get("/organizations/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    db.session.refresh(member)
    assert member.pages_locale == "fr"
    deposit = sent_deposit(organization, member, file_name="facture.pdf")
    deliver(client, sandbox, refusal(deposit, "TVA absente"))
    send_all()
    (mail,) = smtp.messages()
    assert mail.subject == "Facture refusée\u00a0: facture.pdf"
    assert "Motif indiqué\u00a0:" in mail.text and "TVA absente" in mail.text
    assert mail.header("Content-Language") == "fr"


def test_a_member_who_unchecked_refusals_gets_no_email(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User
) -> None:
    member.notify_refusals = False
    db.session.commit()
    deposit = sent_deposit(organization, member)
    assert deliver(client, sandbox, refusal(deposit)).status_code == 202
    db.session.refresh(deposit)
    assert deposit.status is DepositStatus.REFUSED
    assert rows() == []
    assert send_all() == 0 and smtp.messages() == []


def test_an_accepted_invoice_sends_nothing(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User
) -> None:
    deliver(client, sandbox, decision(sent_deposit(organization, member), "Accepted"))
    assert rows() == []


def test_names_cannot_inject_headers(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User
) -> None:
    organization.name = "Acme\r\nBcc: boss@evil.test"
    db.session.commit()
    deposit = sent_deposit(organization, member, file_name="facture\r\nBcc: x@evil.test.pdf")
    deliver(client, sandbox, refusal(deposit, "Refusée\r\nBcc: reason@evil.test"))
    send_all()
    (mail,) = smtp.messages()
    assert mail.envelope_to == ("sophie@boulangerie.test",)
    assert mail.message.get_all("Bcc") is None
    assert mail.subject == "Invoice refused: facture Bcc: x@evil.test.pdf"
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", header_block)
    assert "x@evil.test" in mail.text  # the name is kept, as words


def expired_deposit(organization: Organization, member: User) -> Deposit:
    return factories.deposit(
        organization,
        status=DepositStatus.QUEUED,
        file_name="note-de-frais.pdf",
        created_by=member,
        queued_at=utcnow() - timedelta(hours=25),
        next_attempt_at=utcnow(),
        attempts=12,
    )


def attempt(app: Flask, deposit: Deposit) -> None:
    claim = delivery.claim_deposit(deposit.id, "test-worker")
    assert claim is not None
    delivery.deliver(
        deposit.id,
        claim,
        client=app.extensions["oneconnect"],
        secret_box=app.extensions["secret_box"],
        store=FileStore(app.config["STORAGE_DIR"]),
    )
    db.session.refresh(deposit)
    assert deposit.status is DepositStatus.FAILED


def test_a_deposit_that_ends_failed_in_the_background_emails_the_way_to_retry(
    app: Flask, smtp: Any, organization: Organization, member: User
) -> None:
    deposit = expired_deposit(organization, member)
    attempt(app, deposit)
    send_all()
    (mail,) = smtp.messages()
    assert mail.envelope_to == ("sophie@boulangerie.test",)
    assert mail.subject == "Invoice not delivered: note-de-frais.pdf"
    assert "OneConnect could not be reached for 24 hours" in mail.text
    assert "Retry" in mail.text and "Retry" in mail.html
    assert f"{BASE_URL}/deposits/{deposit.id}" in mail.html
    assert mail.header("List-Unsubscribe")


def test_a_failure_decided_while_the_depositor_waits_on_the_page_is_not_emailed(
    app: Flask, organization: Organization, member: User
) -> None:
    deposit = expired_deposit(organization, member)
    with app.test_request_context("/"):  # the first attempt, made by the request that deposits
        attempt(app, deposit)
    assert rows() == []


def test_a_member_who_unchecked_failures_gets_no_email(
    app: Flask, organization: Organization, member: User
) -> None:
    member.notify_failures = False
    db.session.commit()
    attempt(app, expired_deposit(organization, member))
    assert rows() == []


def test_a_revocation_emails_every_member_once_but_the_one_who_revoked(
    client: FlaskClient, sandbox: Any, smtp: Any, organization: Organization, member: User
) -> None:
    colleague = factories.user("karim@boulangerie.test", locale="fr")
    other = factories.user("lucie@boulangerie.test", locale="en", notify_revocations=False)
    for user in (colleague, other):
        organization.memberships.append(Membership(user=user))
    db.session.commit()
    queued = factories.deposit(organization, status=DepositStatus.QUEUED, created_by=member)
    event = cloud_event(
        spec.EVENT_REVOCATION,
        {
            "integrationId": organization.integration_id,
            "reason": spec.REVOCATION_REASONS[spec.SMB_CLOSED],
        },
    )
    assert deliver(client, sandbox, event).status_code == 202
    again = cloud_event(spec.EVENT_REVOCATION, {"integrationId": organization.integration_id})
    assert deliver(client, sandbox, again).status_code == 202
    send_all()
    received = {mail.envelope_to[0]: mail for mail in smtp.messages()}
    assert set(received) == {"sophie@boulangerie.test", "karim@boulangerie.test"}
    english, french = received["sophie@boulangerie.test"], received["karim@boulangerie.test"]
    assert english.subject == "Integration revoked: Boulangerie Lefebvre"
    assert "was revoked (the company was closed)" in english.text
    assert "1 invoice waiting to be sent could not be delivered." in english.text
    assert f"{BASE_URL}/organizations/new" in english.text
    assert "new invitation" in english.html
    assert french.subject == "Intégration révoquée\u00a0: Boulangerie Lefebvre"
    db.session.refresh(queued)
    assert queued.status is DepositStatus.FAILED


def test_the_member_who_disconnects_is_not_emailed_about_it(
    app: Flask, smtp: Any, organization: Organization, member: User
) -> None:
    colleague = factories.user("karim@boulangerie.test")
    organization.memberships.append(Membership(user=colleague))
    db.session.commit()
    mark_revoked(
        organization, "Disconnected by sophie@boulangerie.test", source="portal", actor=member
    )
    db.session.commit()
    assert [row.to_address for row in rows()] == ["karim@boulangerie.test"]
