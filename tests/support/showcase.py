"""A portal as an accounting firm's client uses it after a few weeks: the data every screen is
looked at with, by the screens test and by `make screenshots`.

Names, references and labels are as long as real ones get, so a layout that only holds for
"invoice-1.pdf" fails here rather than on a phone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app

from portal import audit
from portal.extensions import db
from portal.mail import notifications, outbox, unsubscribe
from portal.models import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    InvoiceKind,
    MailKind,
    MailStatus,
    OutgoingMail,
    PasswordReset,
    ProcessingOutcome,
    Role,
    User,
    WebhookEvent,
    utcnow,
)
from portal.notices import Notice
from tests import factories
from tests.support import invoices, samples

MEMBER = "sophie.lefebvre@boulangerie-lefebvre-et-fils.fr"
OTHER_MEMBER = "karim.benali@garage-benali.fr"
STAFF = "claire.martin@cabinet-durand-associes.fr"
ADMIN = "admin@cabinet-durand-associes.fr"
ORGANIZATION = "Boulangerie-Pâtisserie Lefebvre et Fils"


@dataclass(frozen=True)
class Showcase:
    """The ids the screens' URLs are built from."""

    organization_id: int
    deposit_id: int
    refused_id: int
    member_id: int
    event_id: int
    reset_token: str
    unsubscribe_token: str
    mail_number: int  # the refusal e-mail in the demo's Mailbox


def _lines() -> dict[str, Any]:
    return samples.entries(
        samples.line(
            "60610000",
            1041.67,
            0,
            label="Électricité boutique et fournil — novembre 2026",
            reference="EDF-2026-11-004512",
        ),
        samples.line(
            "44566000",
            208.33,
            0,
            label="TVA déductible sur électricité",
            reference="EDF-2026-11-004512",
        ),
        samples.line(
            "40100000",
            0,
            1250.0,
            label="EDF Entreprises",
            reference="EDF-2026-11-004512",
            thirdParty="EDF",
            thirdPartyLabel="EDF Entreprises",
            dueDate="2026-12-15T00:00:00.000Z",
        ),
    )


def _proposal() -> dict[str, Any]:
    """What the portal read from the EDF invoice: the user kept all of it but the reference."""
    rows = [
        {"account": "60610000", "debit": "1 041,67", "credit": ""},
        {"account": "44566000", "debit": "208,33", "credit": ""},
        {"account": "40100000", "debit": "", "credit": "1 250,00"},
    ]
    return {
        "source": "xml",
        "profile": "EN 16931",
        "counterparty": {"name": "EDF Entreprises", "siren": "552081317"},
        "reference": "EDF-2026-11-004512",
        "lines": rows,
        "vat_number": "FR03552081317",
        "problem": None,
    }


def populate(sandbox: Any) -> Showcase:
    """Fill an empty portal (inside an app context) with the three roles' everyday data."""
    integration_id, secret = sandbox.create_integration(ORGANIZATION)
    member = factories.user(MEMBER)
    other = factories.user(OTHER_MEMBER)
    staff = factories.user(STAFF, role=Role.STAFF)
    factories.user(ADMIN, role=Role.ADMIN)
    organization = factories.organization(
        member, integration_id=integration_id, secret=secret, name=ORGANIZATION
    )
    factories.organization(other, name="Garage Benali — Mécanique et carrosserie")
    factories.assign(staff, organization)
    now = utcnow()
    accepted = factories.deposit(
        organization,
        status=DepositStatus.ACCEPTED,
        file_name="facture-EDF-entreprises-electricite-boutique-novembre-2026.pdf",
        external_reference="portal-7f3a9c2e41-0b6d",
        document_id="doc_01JDZ8K4Q6V9Y3M2T7R5N8W1XC",
        content=invoices.pdf(pages=2),
        entries=_lines(),
        counterparty={"name": "EDF Entreprises", "siren": "552081317", "legalForm": "SA"},
        counterparty_name="EDF Entreprises",
        total_debit=Decimal("1250.00"),
        comment="Facture de novembre, à rapprocher du prélèvement du 15 décembre.",
        reading={"proposal": _proposal()},
        user_email=MEMBER,
        created_by=member,
        created_at=now - timedelta(days=2),
    )
    refused = factories.deposit(
        organization,
        status=DepositStatus.REFUSED,
        kind=InvoiceKind.SALES,
        file_name="FA-2026-0187-traiteur-mariage.pdf",
        external_reference="FA-2026-0187",
        document_id="doc_01JDZ9B2M4P7Q1S3U5W7Y9A2CE",
        rejection_reason="Le numéro de TVA intracommunautaire du client est absent.",
        content=invoices.pdf(),
        created_by=member,
        created_at=now - timedelta(days=1),
    )
    queued = factories.deposit(
        organization,
        status=DepositStatus.QUEUED,
        file_name="photo-ticket-metro.pdf",
        last_error=Notice("upstream.unavailable", {"status": 503}),
        attempts=2,
        queued_at=now - timedelta(hours=1),
        created_by=member,
        created_at=now - timedelta(hours=1),
    )
    factories.deposit(organization, status=DepositStatus.SENT, created_by=member)
    factories.deposit(organization, status=DepositStatus.FAILED, created_by=member)
    db.session.add_all(
        [
            DepositEvent(deposit=accepted, kind=DepositEventKind.QUEUED),
            DepositEvent(deposit=accepted, kind=DepositEventKind.SENT),
            DepositEvent(deposit=accepted, kind=DepositEventKind.ACCEPTED),
            DepositEvent(deposit=refused, kind=DepositEventKind.REFUSED),
            DepositEvent(
                deposit=queued,
                kind=DepositEventKind.ATTEMPT_FAILED,
                message=Notice("upstream.unavailable", {"status": 503}),
                next_attempt_at=now + timedelta(minutes=5),
            ),
        ]
    )
    event = WebhookEvent(
        event_id="evt_01JDZA3C5E7G9J2L4N6Q8S1U3W",
        type="com.shine.oneconnect.document.refused",
        event_time=now,
        body='{"data": {"documentId": "doc_01JDZ9B2M4P7Q1S3U5W7Y9A2CE"}}',
        verification="key-2026-11",
        outcome=ProcessingOutcome.APPLIED,
    )
    db.session.add(event)
    audit.record(audit.SIGN_IN, actor=member)
    audit.record(
        audit.ORGANIZATION_CONNECTED, actor=member, organization=organization, target=organization
    )
    audit.record(audit.STAFF_ASSIGNED, actor=None, organization=organization, target=staff)
    db.session.commit()
    mail_number = _emails(member, refused)
    reset_token = "showcase-reset-token-0123456789abcdef"
    db.session.add(
        PasswordReset(
            user_id=member.id,
            token_sha256=hashlib.sha256(reset_token.encode()).hexdigest(),
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()
    return Showcase(
        organization_id=organization.id,
        deposit_id=accepted.id,
        refused_id=refused.id,
        member_id=member.id,
        event_id=event.id,
        reset_token=reset_token,
        unsubscribe_token=unsubscribe.token(member.id, MailKind.REFUSAL),
        mail_number=mail_number,
    )


def _emails(member: User, refused: Deposit) -> int:
    """The refusal e-mail, sent to the demo's Mailbox (its number there), and two more in the
    admin's e-mail log: one waiting for the mail server, one it refused."""
    notifications.invoice_refused(refused)
    db.session.commit()
    mailbox = current_app.extensions["mailbox"]
    mailbox.ensure_started()  # as the portal's first request does
    outbox.send_due("showcase")
    mail_number = mailbox.messages()[0].number
    waiting = Notice(
        "mail.waiting",
        {"cause": Notice("mail.unreachable", {"reply": "Connection refused"}).as_data()},
    )
    refused_there = Notice(
        "mail.refused",
        {
            "cause": Notice(
                "mail.recipient", {"code": 550, "reply": "5.1.1 No such mailbox here"}
            ).as_data()
        },
    )
    for number, (status, error) in enumerate(
        [(MailStatus.QUEUED, waiting), (MailStatus.FAILED, refused_there)]
    ):
        db.session.add(
            OutgoingMail(
                kind=MailKind.DEPOSIT_FAILED,
                dedup_key=f"showcase:{number}",
                recipient_id=member.id,
                to_address=f"ancienne.adresse.{number}@boulangerie-lefebvre-et-fils.fr",
                locale="fr",
                params={},
                status=status,
                attempts=3,
                last_error=error,
                next_attempt_at=utcnow() + timedelta(minutes=10)
                if status is MailStatus.QUEUED
                else None,
            )
        )
    db.session.commit()
    return mail_number
