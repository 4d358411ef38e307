"""Accounts: creation and sign-in checks. Plain functions; the caller owns the request."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, Role, TwoFactor, User, utcnow
from portal.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    is_common,
    needs_rehash,
    verify_password,
)


class AccountError(Exception):
    """An account cannot be created or used; the message is fit for the user."""


def normalize_email(email: str) -> str:
    return email.strip()


def find_user(email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == normalize_email(email).lower())
    return db.session.scalars(query).first()


def create_user(
    email: str,
    password: str,
    role: Role = Role.MEMBER,
    *,
    actor: User | None = None,
    registered: bool = False,
) -> User:
    """Create, audit and commit a user; raises AccountError when the e-mail is taken or the
    password weak. `registered`: the user created their own account; `actor`: the admin who did."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if is_common(password, [email]):
        raise AccountError("the password is among the first an attacker would try: choose another")
    if find_user(email) is not None:
        raise AccountError(f"an account already exists for {email}")
    user = User(email=email, password_hash=hash_password(password), role=role)
    db.session.add(user)
    try:
        db.session.flush()
        audit.record(
            audit.USER_REGISTERED if registered else audit.USER_CREATED,
            actor=user if registered else actor,
            target=user,
            detail={"email": email, "role": role.value},
        )
        db.session.commit()
    except IntegrityError as error:  # two registrations raced for the same address
        db.session.rollback()
        raise AccountError(f"an account already exists for {email}") from error
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Commits a renewed password hash; the
    sign-in time is the session's (sessions.start)."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


# Throttling (pitfall 11), counted in the audit table so that every worker agrees. It is kept per
# account *and* source: a stranger's failures slow down the stranger, not the account's owner
# elsewhere. After MAX_FAILURES from one source, each further attempt from it waits twice as
# long as the one before (30 s, 1 min, 2 min… up to the window). An account failing from many
# sources at once is refused from any source new to it (ACCOUNT_CEILING); a device the owner
# signed in from before (its signed cookie, portal.auth.devices) is never throttled.
MAX_FAILURES = 10
FIRST_DELAY = timedelta(seconds=30)
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_CEILING = 100


class SignInThrottled(Exception):
    """Too many failed sign-ins lately; try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def throttle_key(email: str) -> str:
    return normalize_email(email).lower()[:254]


def _failures(
    email: str, source: str | None = None, action: str = audit.SIGN_IN_FAILED
) -> tuple[int, datetime | None]:
    """Failed sign-ins (`action`: a wrong password, or a wrong second-factor code) for this
    e-mail (from `source`, when given) within FAILURE_WINDOW and since its last successful
    sign-in or password reset, and when the last one was."""
    key = throttle_key(email)
    since = max(utcnow() - FAILURE_WINDOW, _last_clean_slate(email) or utcnow() - FAILURE_WINDOW)
    query = select(func.count(AuditEvent.id), func.max(AuditEvent.created_at)).where(
        AuditEvent.actor_email == key,
        AuditEvent.action == action,
        AuditEvent.created_at > since,
    )
    if source is not None:
        query = query.where(AuditEvent.ip_address == source)
    count, last = db.session.execute(query).one()
    return int(count or 0), last


def wait_before_trying(email: str, source: str | None, action: str = audit.SIGN_IN_FAILED) -> int:
    """Seconds this source must wait before its next attempt for this e-mail (0: none);
    `action` is the kind of failure counted (see _failures)."""
    now = utcnow()
    count, last = _failures(email, source, action)
    if count >= MAX_FAILURES and last is not None:
        delay = min(FIRST_DELAY * 2 ** (count - MAX_FAILURES), FAILURE_WINDOW)
        if last + delay > now:
            return math.ceil((last + delay - now).total_seconds())
    total, last_any = _failures(email, action=action)
    if total >= ACCOUNT_CEILING and count == 0 and last_any is not None:
        return math.ceil((last_any + FAILURE_WINDOW - now).total_seconds())
    return 0


def _last_clean_slate(email: str) -> datetime | None:
    user = find_user(email)
    if user is None:
        return None
    return db.session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            or_(
                and_(AuditEvent.action == audit.SIGN_IN, AuditEvent.actor_id == user.id),
                and_(
                    AuditEvent.action == audit.USER_PASSWORD_RESET,
                    AuditEvent.target_type == type(user).__name__,
                    AuditEvent.target_id == str(user.id),
                ),
            )
        )
    )


def sign_in(
    email: str, password: str, *, source: str | None = None, known_device: bool = False
) -> User | None:
    """Authenticate and audit the attempt (committed); None for wrong credentials. A user with
    two-factor sign-in (has_second_factor) is not signed in yet: the code comes next.

    Raises SignInThrottled, without checking the password, while this source must wait (see
    MAX_FAILURES); never for a device the account signed in from before.
    """
    wait = 0 if known_device else wait_before_trying(email, source)
    if wait:
        audit.record(audit.SIGN_IN_THROTTLED, actor=None, actor_email=throttle_key(email))
        db.session.commit()
        raise SignInThrottled(wait)
    user = authenticate(email, password)
    if user is None:
        # Failures are keyed by the e-mail as typed (lowercased), known account or not, so the
        # log does not reveal which accounts exist and the throttle index serves the count.
        audit.record(audit.SIGN_IN_FAILED, actor=None, actor_email=throttle_key(email))
    elif has_second_factor(user):
        # Not signed in yet: SIGN_IN (which clears the failure counts) waits for the code, so
        # knowing the password never resets the count of wrong codes.
        audit.record(audit.PASSWORD_ACCEPTED, actor=user)
    else:
        audit.record(audit.SIGN_IN, actor=user)
    db.session.commit()
    return user


def has_second_factor(user: User) -> bool:
    """Whether signing in as `user` asks for an authenticator code after the password."""
    record = db.session.get(TwoFactor, user.id)
    return record is not None and record.enabled
