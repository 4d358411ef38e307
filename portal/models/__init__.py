"""The portal's data model, one module per aggregate."""

from portal.models.audit import AuditEvent
from portal.models.counterparties import Counterparty
from portal.models.deposits import (
    Deposit,
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    InvoiceKind,
)
from portal.models.drafts import Draft
from portal.models.heartbeats import WorkerHeartbeat
from portal.models.mail import MailKind, MailStatus, OutgoingMail
from portal.models.organizations import (
    Membership,
    MembershipRole,
    Organization,
    OrganizationStatus,
    StaffAssignment,
)
from portal.models.password_resets import PasswordReset
from portal.models.sessions import UserSession
from portal.models.two_factor import RecoveryCode, TwoFactor
from portal.models.types import utcnow
from portal.models.users import Role, User
from portal.models.webhook_events import ProcessingOutcome, WebhookEvent

__all__ = [
    "AuditEvent",
    "Counterparty",
    "Deposit",
    "DepositEvent",
    "DepositEventKind",
    "DepositStatus",
    "Draft",
    "InvoiceKind",
    "MailKind",
    "MailStatus",
    "Membership",
    "MembershipRole",
    "Organization",
    "OrganizationStatus",
    "OutgoingMail",
    "PasswordReset",
    "ProcessingOutcome",
    "RecoveryCode",
    "Role",
    "StaffAssignment",
    "TwoFactor",
    "User",
    "UserSession",
    "WebhookEvent",
    "WorkerHeartbeat",
    "utcnow",
]
