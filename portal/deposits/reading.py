"""A staged invoice read for the user (portal.reading), and what that proposes for the form.

A PDF is read while the user waits (its Factur-X XML, else its text: milliseconds); a photo or
a scan waits for OCR, which the sender does (worker.py), and the form asks again until it is
done. What was read and what was proposed are kept on the draft, then on the deposit, so staff
see which values came from the invoice. Nothing read is ever sent without the user's Send.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update

from portal.accounting.amounts import AmountError, format_amount, parse_amount
from portal.deposits.fields import locale_style
from portal.deposits.lines import entry_line_values
from portal.deposits.storage import Store
from portal.extensions import db
from portal.models import Deposit, Draft, Organization, utcnow
from portal.oneconnect import spec
from portal.reading import booking, ocr, text
from portal.reading.facturx import InvoiceDataError, read_facturx
from portal.reading.result import OCR, TEXT, Reading

log = logging.getLogger(__name__)

PENDING, READING, DONE, NONE, FAILED = "pending", "reading", "done", "none", "failed"
# A reader that died mid-OCR gives its draft back after this long.
READING_LEASE = timedelta(minutes=5)
OCR_MEDIA_TYPES = {"image/jpeg", "image/png", "image/bmp", "application/pdf"}


@dataclass(frozen=True)
class Proposal:
    """What the form is offered from the invoice: counterparty fields, the external reference
    and editor rows (texts, as typed), or why no lines could be made (`problem`)."""

    source: str
    profile: str | None = None
    counterparty: dict[str, str] = field(default_factory=dict)
    reference: str | None = None
    lines: list[dict[str, str]] = field(default_factory=list)
    vat_number: str | None = None
    problem: str | None = None

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Proposal:
        return cls(**data)


def read_quickly(draft: Draft, store: Store) -> None:
    """Read a PDF's XML or text now; leave a photo or a scan to OCR (state pending). Done once
    per draft: a second request finds the state set (and a race leaves the first result)."""
    if draft.reading_state is not None:
        return
    state, data = _quick(draft, store)
    db.session.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.reading_state.is_(None))
        .values(reading_state=state, reading=data)
    )
    db.session.commit()
    db.session.refresh(draft)


def _quick(draft: Draft, store: Store) -> tuple[str, dict[str, Any] | None]:
    if draft.media_type != "application/pdf":
        return _waiting_for_ocr()
    content = _content(draft, store)
    try:
        reading = read_facturx(content)
    except InvoiceDataError as error:
        log.info("draft %s: its Factur-X XML is refused (%s)", draft.id, error)
        return FAILED, {"error": error.code}
    if reading is not None:
        return DONE, {"facts": reading.to_data()}
    try:
        words = text.pdf_text(content)
    except text.PdfTextError as error:
        log.info("draft %s: its text cannot be read (%s)", draft.id, error)
        return NONE, None
    if text.has_text(words):
        found = text.read_text(words, TEXT)
        return (DONE, {"facts": found.to_data()}) if found else (NONE, None)
    if not ocr.pdf_has_images(content):
        return NONE, None  # neither text nor image: nothing to read
    return _waiting_for_ocr()  # a scan: its pages are images


def _waiting_for_ocr() -> tuple[str, None]:
    return (PENDING, None) if ocr.ocr_available() else (NONE, None)


def _content(draft: Draft, store: Store) -> bytes:
    with store.open(draft.storage_key) as stream:
        return stream.read()


def claim_ocr() -> Draft | None:
    """One draft waiting for OCR, claimed for this sender (a conditional update, so two senders
    never read the same one); a claim older than the lease is taken over."""
    stale = utcnow() - READING_LEASE
    candidate = db.session.scalars(
        select(Draft)
        .where(
            Draft.deposit_id.is_(None),
            or_(
                Draft.reading_state == PENDING,
                (Draft.reading_state == READING) & (Draft.reading_started_at < stale),
            ),
        )
        .order_by(Draft.created_at)
        .limit(1)
    ).first()
    if candidate is None:
        return None
    claimed = db.session.execute(
        update(Draft)
        .where(Draft.id == candidate.id, Draft.reading_state == candidate.reading_state)
        .values(reading_state=READING, reading_started_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(candidate)
    return candidate


def read_by_ocr(draft: Draft, store: Store, *, timeout: float) -> None:
    """OCR the claimed draft and keep what it says; a failure is recorded, never raised (a
    deposit never waits on it)."""
    try:
        words = ocr.ocr_text(_content(draft, store), draft.media_type, timeout=timeout)
        found = text.read_text(words, OCR) if words.strip() else None
        state, data = (DONE, {"facts": found.to_data()}) if found else (NONE, None)
    except Exception as error:  # an unreadable image, a timeout, Tesseract missing
        log.warning("draft %s: OCR failed (%s)", draft.id, error)
        state, data = FAILED, {"error": "ocr"}
    db.session.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.reading_state == READING)
        .values(reading_state=state, reading=data)
    )
    db.session.commit()


def facts_of(draft: Draft) -> Reading | None:
    facts = (draft.reading or {}).get("facts")
    return Reading.from_data(facts) if facts else None


def propose(reading: Reading, kind: str, organization: Organization, style: str) -> Proposal:
    """The form's values from what the invoice says, for a purchase or a sale."""
    party = booking.counterparty_of(reading, kind)
    counterparty = {
        "name": party.name or "",
        "siren": party.siren or "",
        "legal_form": party.legal_form or "",
        "street": party.street or "",
        "postal_code": party.postal_code or "",
        "city": party.city or "",
        "country": party.country or "",
    }
    lines: list[dict[str, str]] = []
    problem = None
    try:
        for line in booking.invoice_lines(reading, kind):
            row = entry_line_values(line, style)
            if line.currency != "EUR" and reading.exchange_rate is None:
                row["currency_rate"] = ""  # the user states it: the invoice does not
            lines.append(row)
    except booking.NotBookable as refusal:
        problem = refusal.code
    return Proposal(
        source=reading.source,
        profile=reading.profile,
        counterparty={name: value for name, value in counterparty.items() if value},
        reference=_free_reference(reading.number, organization),
        lines=lines,
        vat_number=party.vat_number,
        problem=problem,
    )


def _free_reference(number: str | None, organization: Organization) -> str | None:
    """The invoice number as external reference, when OneConnect takes it and it is unused."""
    if not number or not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(number):
        return None
    used = db.session.scalar(
        select(Deposit.id).where(
            Deposit.organization_id == organization.id, Deposit.external_reference == number
        )
    )
    return None if used else number


def remember_proposal(draft: Draft, proposal: Proposal) -> None:
    """Keep what the form was offered beside the facts: the deposit carries both to staff."""
    draft.reading = {**(draft.reading or {}), "proposal": proposal.to_data()}
    db.session.commit()


@dataclass(frozen=True)
class Compared:
    """One value the invoice proposed beside what the deposit sent (`line` counts from 1)."""

    key: str  # "name", "siren", "reference" or "line"
    read: str
    sent: str
    line: int = 0

    @property
    def changed(self) -> bool:
        return self.read != self.sent


def compared(deposit: Deposit) -> tuple[Proposal, list[Compared]] | None:
    """What the invoice proposed for this deposit against what was sent, for staff."""
    data = (deposit.reading or {}).get("proposal")
    if not data:
        return None
    proposal = Proposal.from_data(data)
    party = deposit.counterparty or {}
    rows = [
        Compared("name", proposal.counterparty.get("name", ""), party.get("name") or ""),
        Compared("siren", proposal.counterparty.get("siren", ""), party.get("siren") or ""),
        Compared("reference", proposal.reference or "", deposit.external_reference),
    ]
    sent_lines = (deposit.entries or {}).get("data", {}).get("lines", [])
    for number in range(1, max(len(proposal.lines), len(sent_lines)) + 1):
        read = _line_words(proposal.lines[number - 1]) if number <= len(proposal.lines) else ""
        sent = _sent_line_words(sent_lines[number - 1]) if number <= len(sent_lines) else ""
        rows.append(Compared("line", read, sent, number))
    return proposal, [row for row in rows if row.read or row.sent]


def _line_words(row: dict[str, str]) -> str:
    try:
        debit, credit = parse_amount(row.get("debit")), parse_amount(row.get("credit"))
    except AmountError:
        return row.get("account", "")
    return _words(row.get("account", ""), debit, credit)


def _side(line: dict[str, Any], side: str) -> Decimal:
    amounts = line.get(side) or {}
    return Decimal(str(amounts.get("currencyAmount") or amounts.get("amount") or 0))


def _sent_line_words(line: dict[str, Any]) -> str:
    return _words(str(line.get("account", "")), _side(line, "debit"), _side(line, "credit"))


def _words(account: str, debit: Decimal, credit: Decimal) -> str:
    """A line in a few characters: its account and the side its amount is on."""
    style = locale_style()
    side = f"D {format_amount(debit, style)}" if debit else f"C {format_amount(credit, style)}"
    return f"{account} · {side}"
