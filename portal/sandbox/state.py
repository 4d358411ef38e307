"""What the simulated OneConnect knows and does, without Flask: the API and the console call it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import requests
from sqlalchemy import Engine, create_engine, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from portal.oneconnect import spec
from portal.sandbox import events, keys, refusals
from portal.sandbox.faults import Faults
from portal.sandbox.models import (
    AccessToken,
    Base,
    Document,
    DocumentState,
    Integration,
    IntegrationState,
    SigningKey,
    WebhookDelivery,
)
from portal.sandbox.rules import ImportRequest
from portal.sandbox.scheduler import Scheduler

DEFAULT_REFUSAL_REASON = "The accounting firm refused this document."
CONSOLE_REVOCATION_REASON = "Revoked by the accounting firm"
# A delivery's last outcome when there is nowhere to send it (the console shows it translated).
NOT_SENT_OUTCOME = "not sent: no webhook URL is configured"
_Row = TypeVar("_Row", Integration, Document)
_REFUSE_WORD = re.compile(r"\brefuse\b", re.IGNORECASE)
_REFUSE_REASON = re.compile(r"\brefuse\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class SandboxSettings:
    """How one sandbox behaves; built from the Flask config by create_sandbox_app."""

    database_url: str
    client_id: str
    client_secret: str
    scope: str
    token_lifetime: int = 3600
    webhook_url: str | None = None
    decision_delay: float | None = 3.0
    webhook_retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16)
    webhook_timeout: float = 5.0


class TokenRefused(Exception):
    """The token endpoint's OAuth2 error (`invalid_client`, `invalid_scope`, …)."""

    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class IntegrationView:
    id: str
    name: str
    status: IntegrationState
    revocation_reason: str | None
    pending_error_code: str | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status is IntegrationState.ACTIVE


@dataclass(frozen=True)
class DocumentView:
    """A received import, with every part as it arrived and the JSON parts parsed."""

    document_id: str
    integration_id: str
    integration_name: str
    kind: str
    external_reference: str | None
    filename: str
    part_filename: str | None
    media_type: str | None
    detected_media_type: str
    size: int
    sha256: str
    user_email: str | None
    comment: str | None
    entries_json: str | None
    organization_json: str | None
    entries: dict[str, Any] | None
    organization: dict[str, Any] | None
    state: DocumentState
    rejection_reason: str | None
    received_at: datetime
    decided_at: datetime | None

    @property
    def line_count(self) -> int:
        return len(self.entries["data"]["lines"]) if self.entries else 0


@dataclass(frozen=True)
class DeliveryView:
    event_id: str
    event_type: str
    body: str
    attempts: int
    delivered: bool
    last_outcome: str | None
    created_at: datetime
    last_attempt_at: datetime | None

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass(frozen=True)
class KeyView:
    kid: str
    created_at: datetime
    active: bool
    current: bool


class SandboxState:
    """The sandbox's data and behaviour; every method is safe to call from any thread."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        # Both may be changed at run time, e.g. by a test that starts its receiver later.
        self.webhook_url = settings.webhook_url
        self.decision_delay = settings.decision_delay
        self.faults = Faults()
        self._engine = _engine(settings.database_url)
        # A simulator has no migrations: its tables are created as they are.
        Base.metadata.create_all(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        # SQLite serialises writers anyway, and the in-memory database is one shared connection.
        self._lock = threading.RLock()
        self._scheduler = Scheduler()
        self._http = requests.Session()

    def close(self) -> None:
        """Stop the background thread and release the HTTP session and the database."""
        self._scheduler.stop()
        self._http.close()
        self._engine.dispose()

    def reset(self) -> None:
        """Forget everything: integrations, documents, tokens, keys, deliveries, pending work."""
        with self._lock:
            self._scheduler.clear()
            self.faults.clear()
            Base.metadata.drop_all(self._engine)
            Base.metadata.create_all(self._engine)

    def issue_token(
        self,
        grant_type: str | None,
        client_id: str | None,
        client_secret: str | None,
        scope: str | None,
    ) -> IssuedToken:
        """A new access token for the partner credentials; raises TokenRefused."""
        if grant_type != "client_credentials":
            raise TokenRefused("unsupported_grant_type", 400)
        if not (
            _same(client_id, self.settings.client_id)
            and _same(client_secret, self.settings.client_secret)
        ):
            raise TokenRefused("invalid_client", 401)
        if not scope or not set(scope.split()) <= set(self.settings.scope.split()):
            raise TokenRefused("invalid_scope", 400)
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        lifetime = self.settings.token_lifetime
        with self._transaction() as session:
            session.add(
                AccessToken(
                    token_sha256=_sha256(token),
                    issued_at=now,
                    expires_at=now + timedelta(seconds=lifetime),
                )
            )
        return IssuedToken(token, lifetime)

    def token_is_valid(self, token: str) -> bool:
        """Whether `token` was issued here and has not expired."""
        with self._transaction() as session:
            row = session.get(AccessToken, _sha256(token))
            return row is not None and row.expires_at > datetime.now(UTC)

    @property
    def tokens_issued(self) -> int:
        """How many access tokens were issued since the last reset."""
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(AccessToken)) or 0

    def expire_tokens(self) -> None:
        """Make every issued token expired, as an upstream restart or early expiry would."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        with self._transaction() as session:
            session.execute(update(AccessToken).values(expires_at=past))

    def create_integration(self, name: str) -> tuple[str, str]:
        """A new active integration, as an accountant's invitation creates; (id, secret)."""
        integration = Integration(
            id=str(uuid.uuid4()),
            name=name,
            secret=secrets.token_urlsafe(32),
            status=IntegrationState.ACTIVE,
            created_at=datetime.now(UTC),
        )
        with self._transaction() as session:
            session.add(integration)
        return integration.id, integration.secret

    def integrations(self) -> list[IntegrationView]:
        """Every integration, newest first."""
        with self._transaction() as session:
            rows = session.scalars(select(Integration).order_by(Integration.created_at.desc()))
            return [_integration_view(row) for row in rows]

    def authorize(self, integration_id: str, secret: str | None) -> IntegrationView:
        """The integration if `secret` is its key and it is active; raises a Refusal otherwise."""
        with self._transaction() as session:
            return _integration_view(_authorized(session, integration_id, secret))

    def revoke_by_user(self, integration_id: str, secret: str | None) -> None:
        """PUT …/revoke: the partner software revokes on the user's behalf; sends Revocation."""
        with self._transaction() as session:
            integration = _authorized(session, integration_id, secret)
            delivery_id = self._revoke(session, integration, spec.USER_REVOCATION_REASON)
        self._send_later(delivery_id)

    def revoke_integration(self, integration_id: str, reason: str) -> None:
        """Revoke from the accounting side and send a Revocation event (no-op if revoked)."""
        with self._transaction() as session:
            integration = _existing(session, Integration, integration_id)
            if integration.status is IntegrationState.REVOKED:
                return
            delivery_id = self._revoke(session, integration, reason)
        self._send_later(delivery_id)

    def set_business_error(self, integration_id: str, code: str | None) -> None:
        """Make the next import answer `code` (SMB_CLOSED, …) and revoke; None clears it."""
        if code is not None and code not in spec.REVOKING_ERROR_CODES:
            raise ValueError(f"{code!r} is not a revoking business error")
        with self._transaction() as session:
            _existing(session, Integration, integration_id).pending_error_code = code

    def import_document(
        self, integration_id: str, secret: str | None, kind: str, upload: ImportRequest
    ) -> str:
        """Record an import that passed the rules and return its documentId.

        Raises the 409 duplicate Refusal, or the pending business error (which revokes the
        integration and sends a Revocation event). Schedules the automatic decision.
        """
        with self._transaction() as session:
            integration = _authorized(session, integration_id, secret)
            _check_unused(session, integration_id, upload.external_reference)
            code = integration.pending_error_code
            if code is not None:
                delivery_id = self._revoke(session, integration, spec.REVOCATION_REASONS[code])
            else:
                document = _new_document(integration_id, kind, upload)
                session.add(document)
        if code is not None:
            self._send_later(delivery_id)
            raise refusals.business_error(code)
        if self.decision_delay is not None:
            self._scheduler.call_later(
                self.decision_delay, partial(self._decide_automatically, document.id)
            )
        return document.id

    def documents(
        self, integration_id: str | None = None, *, limit: int | None = None
    ) -> list[DocumentView]:
        """Received documents, newest first, optionally of one integration."""
        query = select(Document, Integration.name).join(Integration)
        if integration_id is not None:
            query = query.where(Document.integration_id == integration_id)
        query = query.order_by(Document.received_at.desc()).limit(limit)
        with self._transaction() as session:
            return [_document_view(document, name) for document, name in session.execute(query)]

    def decide(self, document_id: str, accepted: bool, reason: str | None = None) -> None:
        """The accounting tool accepts or refuses a document; sends a DocumentStatus event.

        Deciding again is allowed (a test may need a late or contradictory event); raises
        LookupError for an unknown document.
        """
        with self._transaction() as session:
            document = _existing(session, Document, document_id)
            document.state = DocumentState.ACCEPTED if accepted else DocumentState.REFUSED
            document.rejection_reason = None if accepted else (reason or DEFAULT_REFUSAL_REASON)
            document.decided_at = datetime.now(UTC)
            event = events.document_status(
                document.integration_id,
                document.id,
                document.external_reference,
                document.state.value,
                document.rejection_reason,
            )
            delivery_id = _record_event(session, event)
        self._send_later(delivery_id)

    def _decide_automatically(self, document_id: str) -> None:
        with self._lock:
            with self._transaction() as session:
                document = session.get(Document, document_id)
                if document is None or document.state is not DocumentState.RECEIVED:
                    return
                comment = document.comment
            accepted, reason = decision_for_comment(comment)
            self.decide(document_id, accepted, reason)

    def jwks(self) -> dict[str, Any]:
        """The JWKS document: the public halves of every active signing key."""
        with self._transaction() as session:
            self._current_key(session)
            rows = session.scalars(select(SigningKey).where(SigningKey.active))
            return {"keys": [keys.public_jwk(row.private_pem, row.kid) for row in rows]}

    def rotate_signing_key(self) -> str:
        """Sign from now on with a new key (returned kid); older keys stay listed."""
        with self._transaction() as session:
            return _new_key(session).kid

    def signing_keys(self) -> list[KeyView]:
        """The signing keys, newest (current) first."""
        with self._transaction() as session:
            current = self._current_key(session).kid
            rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc()))
            return [
                KeyView(row.kid, row.created_at, row.active, row.kid == current) for row in rows
            ]

    def _current_key(self, session: Session) -> SigningKey:
        # Generated on first use: RSA generation is slow and most test sandboxes never sign.
        query = select(SigningKey).where(SigningKey.active).order_by(SigningKey.created_at.desc())
        return session.scalars(query.limit(1)).first() or _new_key(session)

    def deliveries(self, *, limit: int | None = None) -> list[DeliveryView]:
        """Recorded webhook events with their delivery outcome, newest first."""
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        with self._transaction() as session:
            return [_delivery_view(row) for row in session.scalars(query)]

    def redeliver(self, event_id: str) -> None:
        """Send an event again, as upstream webhooks may repeat."""
        with self._transaction() as session:
            query = select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)
            delivery_id = session.scalars(query).first()
        if delivery_id is None:
            raise LookupError(f"no event {event_id}")
        self._send_later(delivery_id)

    def _revoke(self, session: Session, integration: Integration, reason: str) -> int:
        integration.status = IntegrationState.REVOKED
        integration.revocation_reason = reason
        integration.pending_error_code = None
        return _record_event(session, events.revocation(integration.id, reason))

    def _send_later(self, delivery_id: int, delay: float = 0.0) -> None:
        self._scheduler.call_later(delay, partial(self._attempt_delivery, delivery_id))

    def _attempt_delivery(self, delivery_id: int) -> None:
        url = self.webhook_url
        with self._transaction() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            if url is None:
                delivery.last_outcome = NOT_SENT_OUTCOME
                return
            body = delivery.body.encode("utf-8")
        token = self.sign(body)
        delivered, outcome = self._post(url, body, token)
        with self._transaction() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.delivered = delivery.delivered or delivered
            delivery.last_outcome = outcome
            delivery.last_attempt_at = datetime.now(UTC)
            attempts = delivery.attempts
        retry_delays = self.settings.webhook_retry_delays
        if not delivered and attempts <= len(retry_delays):
            self._send_later(delivery_id, retry_delays[attempts - 1])

    def sign(self, body: bytes, *, issued_at: int | None = None) -> str:
        """The Authorization token OneConnect would send with `body` (current signing key)."""
        with self._transaction() as session:
            key = self._current_key(session)
            pem, kid = key.private_pem, key.kid
        return keys.sign_delivery(
            body, pem, kid, int(time.time()) if issued_at is None else issued_at
        )

    def _post(self, url: str, body: bytes, token: str) -> tuple[bool, str]:
        try:
            response = self._http.post(
                url,
                data=body,
                headers={
                    "Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE,
                    "Authorization": f"Bearer {token}",
                },
                timeout=self.settings.webhook_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return False, f"failed: {type(exc).__name__}"
        response.close()
        return 200 <= response.status_code < 300, f"HTTP {response.status_code}"

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._lock, self._sessions.begin() as session:
            yield session


def decision_for_comment(comment: str | None) -> tuple[bool, str | None]:
    """The simulated accountant refuses when the comment says "refuse" ("refuse: why" names why)."""
    if not comment or not _REFUSE_WORD.search(comment):
        return True, None
    match = _REFUSE_REASON.search(comment)
    reason = match.group(1).strip() if match else ""
    return False, reason or DEFAULT_REFUSAL_REASON


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    if parsed.database in (None, "", ":memory:"):
        # One connection shared by every thread, or each would see its own empty database.
        return create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    return create_engine(url, connect_args={"check_same_thread": False})


def _authorized(session: Session, integration_id: str, secret: str | None) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise refusals.unknown_integration(integration_id)
    # The key is checked before the status so that a revocation reason is not told to strangers.
    if not _same(secret, integration.secret):
        raise refusals.wrong_api_key()
    if integration.status is IntegrationState.REVOKED:
        raise refusals.revoked(integration.revocation_reason or "revoked")
    return integration


def _check_unused(session: Session, integration_id: str, reference: str | None) -> None:
    if reference is None:
        return
    query = select(Document).where(
        Document.integration_id == integration_id, Document.external_reference == reference
    )
    existing = session.scalars(query).first()
    if existing is not None:
        raise refusals.duplicate(reference, existing.id, events.iso_utc(existing.received_at))


def _new_document(integration_id: str, kind: str, upload: ImportRequest) -> Document:
    return Document(
        id=str(uuid.uuid4()),
        integration_id=integration_id,
        kind=kind,
        external_reference=upload.external_reference,
        filename=upload.filename,
        part_filename=upload.part_filename,
        media_type=upload.media_type,
        detected_media_type=upload.detected_media_type,
        size=upload.size,
        sha256=upload.sha256,
        user_email=upload.user_email,
        comment=upload.comment,
        entries_json=upload.entries_json,
        organization_json=upload.organization_json,
        state=DocumentState.RECEIVED,
        received_at=datetime.now(UTC),
    )


def _new_key(session: Session) -> SigningKey:
    key = SigningKey(
        kid=str(uuid.uuid4()),
        private_pem=keys.new_private_key_pem(),
        created_at=datetime.now(UTC),
        active=True,
    )
    session.add(key)
    session.flush()
    return key


def _record_event(session: Session, event: dict[str, Any]) -> int:
    delivery = WebhookDelivery(
        event_id=event["id"],
        event_type=event["type"],
        body=events.encode(event),
        attempts=0,
        delivered=False,
        created_at=datetime.now(UTC),
    )
    session.add(delivery)
    session.flush()
    return delivery.id


def _existing(session: Session, model: type[_Row], key: str) -> _Row:
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"no {model.__name__.lower()} {key}")
    return row


def _integration_view(row: Integration) -> IntegrationView:
    return IntegrationView(
        row.id, row.name, row.status, row.revocation_reason, row.pending_error_code, row.created_at
    )


def _document_view(row: Document, integration_name: str) -> DocumentView:
    return DocumentView(
        document_id=row.id,
        integration_id=row.integration_id,
        integration_name=integration_name,
        kind=row.kind,
        external_reference=row.external_reference,
        filename=row.filename,
        part_filename=row.part_filename,
        media_type=row.media_type,
        detected_media_type=row.detected_media_type,
        size=row.size,
        sha256=row.sha256,
        user_email=row.user_email,
        comment=row.comment,
        entries_json=row.entries_json,
        organization_json=row.organization_json,
        entries=json.loads(row.entries_json) if row.entries_json else None,
        organization=json.loads(row.organization_json) if row.organization_json else None,
        state=row.state,
        rejection_reason=row.rejection_reason,
        received_at=row.received_at,
        decided_at=row.decided_at,
    )


def _delivery_view(row: WebhookDelivery) -> DeliveryView:
    return DeliveryView(
        row.event_id,
        row.event_type,
        row.body,
        row.attempts,
        row.delivered,
        row.last_outcome,
        row.created_at,
        row.last_attempt_at,
    )


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
