"""Time-based one-time codes (RFC 6238, as phone authenticator apps make them), their QR code,
and recovery codes. Pure functions: no database, no request."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno

ISSUER = "OneConnect portal"
STEP_SECONDS = 30
# A code of the step before or after is accepted too: phones' clocks drift, people type slowly.
TOLERANCE_STEPS = 1
DIGITS = 6
RECOVERY_CODES = 10
# Crockford's base32: no I, L, O or U, so a code read off paper is typed right.
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RECOVERY_LENGTH = 10  # 50 bits each
_CODE_PATTERN = re.compile(rf"\d{{{DIGITS}}}")


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def qr_svg(uri: str, title: str) -> str:
    """The QR code of `uri` as an inline SVG element (no XML declaration, no script, no style)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr"
    )
    # An image with a name for assistive technology (its <title>), whatever the theme's colours.
    return str(svg).replace("<svg ", '<svg role="img" ', 1)


def grouped(secret: str) -> str:
    """The secret in groups of four letters, for typing it into an app by hand."""
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def looks_like_code(typed: str) -> bool:
    """Whether `typed` is an authenticator code (six digits, spaces allowed) rather than a
    recovery code or a password."""
    return bool(_CODE_PATTERN.fullmatch(_without_spaces(typed)))


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, typed: str, moment: datetime, after: int | None) -> int | None:
    """The time step whose code `typed` is, within TOLERANCE_STEPS of `moment` and later than
    `after` (the last step accepted: a code works once), else None."""
    code = _without_spaces(typed)
    if not _CODE_PATTERN.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(moment)
    for step in range(current - TOLERANCE_STEPS, current + TOLERANCE_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Random single-use codes, written `xxxxx-xxxxx`."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_digest(typed: str) -> str | None:
    """The SHA-256 a recovery code is kept as, read as people type it (any case, with or without
    its hyphen or spaces, O for 0, I or L for 1); None when it cannot be one."""
    raw = _without_spaces(typed).replace("-", "").lower()
    raw = raw.translate(str.maketrans({"o": "0", "i": "1", "l": "1"}))
    if len(raw) != _RECOVERY_LENGTH or any(char not in _RECOVERY_ALPHABET for char in raw):
        return None
    return hashlib.sha256(raw.encode()).hexdigest()


def _without_spaces(typed: str) -> str:
    return "".join(typed.split())
