"""One-line factories for users, organizations and deposits."""

from __future__ import annotations

import io
import itertools
from datetime import datetime
from typing import Any

from flask import current_app

from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.models import (
    Deposit,
    DepositStatus,
    InvoiceKind,
    Membership,
    MembershipRole,
    Organization,
    Role,
    StaffAssignment,
    User,
    utcnow,
)
from portal.passwords import hash_password

PASSWORD = "correct horse battery"
_PASSWORD_HASH: str | None = None
_counter = itertools.count(1)


def _password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def user(email: str | None = None, role: Role = Role.MEMBER, **fields: Any) -> User:
    created = User(
        email=email or f"user{next(_counter)}@example.test",
        password_hash=_password_hash(),
        role=role,
        **fields,
    )
    db.session.add(created)
    db.session.commit()
    return created


def organization(
    member: User | None = None,
    *,
    name: str | None = None,
    integration_id: str | None = None,
    secret: str = "not-a-real-secret",
    **fields: Any,
) -> Organization:
    number = next(_counter)
    created = Organization(
        name=name or f"Company {number}",
        integration_id=integration_id or f"00000000-0000-4000-8000-{number:012d}",
        integration_secret_encrypted=current_app.extensions["secret_box"].encrypt(secret),
        **fields,
    )
    if member is not None:
        created.memberships.append(Membership(user=member, role=MembershipRole.OWNER))
    db.session.add(created)
    db.session.commit()
    return created


def assign(staff: User, organization: Organization) -> StaffAssignment:
    assignment = StaffAssignment(user_id=staff.id, organization_id=organization.id)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def deposit(
    organization: Organization,
    *,
    status: DepositStatus = DepositStatus.SENT,
    created_at: datetime | None = None,
    content: bytes = b"%PDF-1.4 test",
    **fields: Any,
) -> Deposit:
    number = next(_counter)
    key = FileStore(current_app.config["STORAGE_DIR"]).save(io.BytesIO(content))
    values: dict[str, Any] = {
        "organization": organization,
        "kind": InvoiceKind.PURCHASE,
        "file_name": f"invoice-{number}.pdf",
        "file_size": len(content),
        "media_type": "application/pdf",
        "sha256": "0" * 64,
        "storage_key": key,
        "external_reference": f"REF-{number}",
        "status": status,
        "created_at": created_at or utcnow(),
    }
    values.update(fields)
    created = Deposit(**values)
    db.session.add(created)
    db.session.commit()
    return created


def deposit_command(
    organization: Organization, actor: User, content: bytes, name: str = "invoice.pdf"
) -> Any:
    """A purchase made of `content`, staged as a draft the way the form stages it, ready for
    services.queue_deposit."""
    from portal.deposits import drafts, services

    store = FileStore(current_app.config["STORAGE_DIR"])
    draft = drafts.stage(organization, actor, io.BytesIO(content), name, store=store)
    return services.DepositCommand(
        kind=InvoiceKind.PURCHASE,
        draft=draft,
        user_email=None,
        comment=None,
        external_reference=None,
    )
