"""Counterparties an organization has named on its deposits: remembered, then offered again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.models import Counterparty, Organization, utcnow

SUGGESTIONS = 8


def remember(organization: Organization, party: dict[str, Any] | None) -> Counterparty | None:
    """Add or refresh the counterparty of a deposit (the API's `organization` part).

    Found again by SIREN when it has one, by name otherwise. Adds to the session; the caller
    commits with its own unit of work.
    """
    if not party or not party.get("name"):
        return None
    siren = party.get("siren")
    query = select(Counterparty).where(Counterparty.organization_id == organization.id)
    if siren:
        query = query.where(Counterparty.siren == siren)
    else:
        query = query.where(
            Counterparty.siren.is_(None), func.lower(Counterparty.name) == party["name"].lower()
        )
    known = db.session.scalars(query.limit(1)).first()
    if known is None:
        known = Counterparty(organization_id=organization.id, name=party["name"])
        db.session.add(known)
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    known.name = party["name"]
    known.siren = siren or None
    known.legal_form = party.get("legalForm") or None
    known.naf = party.get("naf") or None
    known.street = address.get("street") or None
    known.postal_code = address.get("postalCode") or None
    known.city = address.get("city") or None
    known.country = address.get("country") or None
    known.phone_number = party.get("phoneNumber") or None
    known.contact_email = party.get("contactEmail") or None
    known.last_used_at = utcnow()
    return known


def suggestions(organization: Organization, typed: str) -> list[Counterparty]:
    """The organization's counterparties whose name contains `typed` (or SIREN starts with it)."""
    typed = typed.strip()
    if len(typed) < 2:
        return []
    pattern = (
        "%" + typed.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    )
    digits = typed.replace(" ", "")
    matches = [func.lower(Counterparty.name).like(pattern, escape="\\")]
    if digits.isdigit():
        matches.append(Counterparty.siren.startswith(digits, autoescape=True))
    query = (
        select(Counterparty)
        .where(Counterparty.organization_id == organization.id, or_(*matches))
        .order_by(Counterparty.last_used_at.desc(), Counterparty.id.desc())
        .limit(SUGGESTIONS)
    )
    return list(db.session.scalars(query))


def counterparty_of(organization: Organization, counterparty_id: int) -> Counterparty | None:
    """One of the organization's counterparties (None for another organization's)."""
    return db.session.scalars(
        select(Counterparty).where(
            Counterparty.organization_id == organization.id, Counterparty.id == counterparty_id
        )
    ).first()


def form_data(party: Counterparty) -> dict[str, str]:
    """The counterparty as the deposit form's fields hold it."""
    return {
        "name": party.name,
        "siren": party.siren or "",
        "legal_form": party.legal_form or "",
        "naf": party.naf or "",
        "street": party.street or "",
        "postal_code": party.postal_code or "",
        "city": party.city or "",
        "country": party.country or "",
        "phone_number": party.phone_number or "",
        "contact_email": party.contact_email or "",
    }


def payload_form_data(party: dict[str, Any] | None) -> dict[str, str]:
    """A counterparty as it was sent (the API's `organization` part), as the form's fields."""
    party = party or {}
    address = party.get("address") or {}
    return {
        "name": party.get("name") or "",
        "siren": party.get("siren") or "",
        "legal_form": party.get("legalForm") or "",
        "naf": party.get("naf") or "",
        "street": address.get("street") or "",
        "postal_code": address.get("postalCode") or "",
        "city": address.get("city") or "",
        "country": address.get("country") or "",
        "phone_number": party.get("phoneNumber") or "",
        "contact_email": party.get("contactEmail") or "",
    }
