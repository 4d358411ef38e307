"""Accounts: creation and sign-in checks. Plain functions; the caller owns the request."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Role, User, utcnow
from portal.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
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


def create_user(email: str, password: str, role: Role = Role.MEMBER) -> User:
    """Create and commit a user; raises AccountError when the e-mail is taken or the password weak."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(email) is not None:
        raise AccountError(f"an account already exists for {email}")
    user = User(email=email, password_hash=hash_password(password), role=role)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:  # two registrations raced for the same address
        db.session.rollback()
        raise AccountError(f"an account already exists for {email}") from error
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Commits the sign-in time."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user
