"""Two-factor sign-in: enrolment, codes checked once, recovery codes, turning it off, the
admin's reset. Plain functions; the caller owns the request. Each says what it commits.

The secret is kept encrypted (the portal's SecretBox) and shown only while enrolling; after that
no page, log line or audit detail carries it. Recovery codes are kept as SHA-256 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from portal import audit
from portal.auth import services as accounts
from portal.auth import sessions, totp
from portal.encryption import SecretBox
from portal.extensions import db
from portal.mail import notifications
from portal.models import RecoveryCode, TwoFactor, User, utcnow
from portal.passwords import verify_password


class AlreadyEnabled(Exception):
    """Two-factor sign-in is on already: the secret is no longer shown."""


class WrongCode(Exception):
    """The code (or password) typed does not prove who the user is."""


class StillRequired(Exception):
    """Two-factor sign-in is required for the user's role: it cannot be turned off."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret, grouped, and its QR code's URI."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        return totp.grouped(self.secret)


@dataclass(frozen=True)
class State:
    """What Settings and the admin's user page say about an account's second factor."""

    enabled_at: datetime | None
    recovery_codes_left: int
    required: bool

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


def _box() -> SecretBox:
    return current_app.extensions["secret_box"]


def required_for(user: User) -> bool:
    """Whether the user's role must sign in with a second factor (PORTAL_TWO_FACTOR_REQUIRED)."""
    return user.role.value in current_app.config["TWO_FACTOR_REQUIRED"]


def state(user: User) -> State:
    record = db.session.get(TwoFactor, user.id)
    enabled_at = record.enabled_at if record is not None else None
    return State(
        enabled_at=enabled_at,
        recovery_codes_left=_codes_left(user) if enabled_at else 0,
        required=required_for(user),
    )


def _codes_left(user: User) -> int:
    count = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return int(count or 0)


def start_enrolment(user: User) -> Enrolment:
    """The secret being enrolled: the one already waiting for its first code, else a new one
    (committed, not yet enabled). Raises AlreadyEnabled once two-factor sign-in is on."""
    record = db.session.get(TwoFactor, user.id)
    if record is not None and record.enabled:
        raise AlreadyEnabled
    if record is None:
        record = TwoFactor(user_id=user.id, secret_encrypted=_box().encrypt(totp.new_secret()))
        db.session.add(record)
        db.session.commit()
    secret = _box().decrypt(record.secret_encrypted)
    return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, user.email))


def confirm_enrolment(user: User, typed: str, *, now: datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on once `typed` is the current code of the secret being
    enrolled; returns the new recovery codes (to show once). Audited, committed. Raises
    WrongCode, or AlreadyEnabled."""
    record = db.session.get(TwoFactor, user.id)
    if record is None:
        raise WrongCode
    if record.enabled:
        raise AlreadyEnabled
    secret = _box().decrypt(record.secret_encrypted)
    step = totp.matching_step(secret, typed, now or utcnow(), after=None)
    if step is None:
        raise WrongCode
    record.enabled_at = utcnow()
    record.last_step = step  # the code just typed cannot sign anyone in afterwards
    codes = _replace_recovery_codes(user)
    audit.record(audit.TWO_FACTOR_ENABLED, actor=user, target=user)
    db.session.commit()
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        digest = totp.recovery_digest(code)
        assert digest is not None
        db.session.add(RecoveryCode(user_id=user.id, code_sha256=digest))
    return codes


def _accept_code(record: TwoFactor, typed: str, now: datetime) -> bool:
    """Whether `typed` is a code not used before; marks its step used. Two requests racing
    with the same code: the conditional update lets one of them through."""
    secret = _box().decrypt(record.secret_encrypted)
    step = totp.matching_step(secret, typed, now, after=record.last_step)
    if step is None:
        return False
    taken = db.session.execute(
        update(TwoFactor)
        .where(
            TwoFactor.user_id == record.user_id,
            or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def _accept_recovery_code(user: User, typed: str) -> bool:
    """Whether `typed` is one of the user's unused recovery codes; uses it up."""
    digest = totp.recovery_digest(typed)
    if digest is None:
        return False
    taken = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_sha256 == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def sign_in_with_code(
    user: User,
    typed: str,
    *,
    source: str | None,
    known_device: bool = False,
    now: datetime | None = None,
) -> bool:
    """The second step of signing in: whether `typed` is a current authenticator code not used
    before, or an unused recovery code (then used up). Audited, committed.

    Raises accounts.SignInThrottled, without checking the code, while this source must wait
    after repeated wrong codes (the password step's rule, counted apart); never for a device
    the account signed in from before.
    """
    key = accounts.throttle_key(user.email)
    wait = 0 if known_device else accounts.wait_before_trying(key, source, audit.TWO_FACTOR_FAILED)
    if wait:
        audit.record(audit.SIGN_IN_THROTTLED, actor=user, actor_email=key)
        db.session.commit()
        raise accounts.SignInThrottled(wait)
    record = db.session.get(TwoFactor, user.id)
    accepted = False
    if record is not None and record.enabled:
        if totp.looks_like_code(typed):
            accepted = _accept_code(record, typed, now or utcnow())
        elif _accept_recovery_code(user, typed):
            accepted = True
            audit.record(audit.RECOVERY_CODE_USED, actor=user, target=user)
    if accepted:
        audit.record(audit.SIGN_IN, actor=user)
    else:  # keyed like the password's failures (the e-mail in lower case): the throttle counts them
        audit.record(audit.TWO_FACTOR_FAILED, actor=user, actor_email=key)
    db.session.commit()
    return accepted


def _proves_identity(user: User, typed: str, now: datetime) -> bool:
    """A current code (not used before) or the account's password."""
    record = db.session.get(TwoFactor, user.id)
    if record is not None and record.enabled and totp.looks_like_code(typed):
        return _accept_code(record, typed, now)
    return verify_password(user.password_hash, typed)


def _check_identity(user: User, typed: str, source: str | None, now: datetime | None) -> None:
    key = accounts.throttle_key(user.email)
    wait = accounts.wait_before_trying(key, source, audit.TWO_FACTOR_FAILED)
    if wait:
        raise accounts.SignInThrottled(wait)
    if not _proves_identity(user, typed, now or utcnow()):
        audit.record(audit.TWO_FACTOR_FAILED, actor=user, actor_email=key)
        db.session.commit()
        raise WrongCode


def renew_recovery_codes(
    user: User, typed: str, *, source: str | None = None, now: datetime | None = None
) -> list[str]:
    """New recovery codes in place of the old ones, once `typed` (a current code or the
    password) proves who asks; audited, committed. Raises WrongCode, SignInThrottled."""
    if not state(user).enabled:
        raise WrongCode
    _check_identity(user, typed, source, now)
    codes = _replace_recovery_codes(user)
    audit.record(audit.RECOVERY_CODES_RENEWED, actor=user, target=user)
    db.session.commit()
    return codes


def turn_off(
    user: User, typed: str, *, source: str | None = None, now: datetime | None = None
) -> None:
    """Turn two-factor sign-in off once `typed` (a current code or the password) proves who
    asks; secret and recovery codes are deleted. Audited, committed. Raises StillRequired
    for a role that must keep it, WrongCode, SignInThrottled."""
    if required_for(user):
        raise StillRequired
    _check_identity(user, typed, source, now)
    _delete(user)
    audit.record(audit.TWO_FACTOR_DISABLED, actor=user, target=user)
    db.session.commit()


def reset_by_admin(user: User, *, actor: User) -> bool:
    """Forget the user's authenticator and recovery codes (a lost phone): they sign in with the
    password alone, and enrol again (at once when their role requires it). Every session they
    have open ends too (the phone may be in someone else's hands, and a laptop with it).
    Audited, e-mailed to the user, committed. False when there was nothing to reset."""
    if db.session.get(TwoFactor, user.id) is None:
        return False
    if user.id != actor.id:  # an admin resetting their own keeps the session they act from
        sessions.end_all(user)
    _delete(user)
    audit.record(audit.TWO_FACTOR_RESET, actor=actor, target=user, detail={"email": user.email})
    notifications.two_factor_reset(user)
    db.session.commit()
    return True


def _delete(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.expire_all()
