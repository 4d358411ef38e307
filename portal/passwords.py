"""Password hashing with Argon2id at OWASP's recommended minimum (see pitfalls: scrypt defaults are weaker)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
MIN_PASSWORD_LENGTH = 10
# zxcvbn's scores 0 and 1 are passwords found in a million guesses or fewer: the common ones
# (password123, azertyuiop, soleil123456), keyboard runs, and the user's own e-mail with digits.
MIN_PASSWORD_SCORE = 2
# zxcvbn refuses more than 72 characters (its matching grows with the length): the start decides.
_SCORED_LENGTH = 72

# Verifying against this keeps sign-in time the same whether or not the e-mail exists.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def is_common(password: str, hints: Iterable[str] = ()) -> bool:
    """Whether the password is among those guessed first: common passwords, dictionary words
    with digits, keyboard runs, or one made of `hints` (the user's e-mail, say)."""
    words = [part for hint in hints if hint for part in _parts(hint)]
    return int(zxcvbn(password[:_SCORED_LENGTH], user_inputs=words)["score"]) < MIN_PASSWORD_SCORE


def _parts(hint: str) -> list[str]:
    """An e-mail address as the words a person builds a password from."""
    local, _, domain = hint.lower().partition("@")
    pieces = [local, *local.replace("-", ".").replace("_", ".").split(".")]
    pieces += domain.split(".")[:-1]
    return [piece for piece in pieces if len(piece) >= 3]
