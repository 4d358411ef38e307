"""OneConnect webhook deliveries: signature verification against the JWKS, CloudEvent parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portal.observability.counters import JWKS_FETCHES
from portal.oneconnect import spec

logger = logging.getLogger(__name__)

# PyJWT's own time checks use the wall clock and no maximum age (pitfall 2): we check `iat`
# ourselves against `now`. The assumed scheme names no audience, so one is not required.
_DECODE_OPTIONS: Any = {
    "verify_iat": False,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_aud": False,
}


class SignatureInvalid(Exception):
    """The delivery is not provably from OneConnect; `reason` says why (for logs, not users)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """No verification key set could be fetched and none is cached: decide later."""


class NotACloudEvent(Exception):
    """A signed body that is not a CloudEvents 1.0 JSON event; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksCache:
    """OneConnect's webhook verification keys, fetched lazily and cached; safe across threads.

    One fetch at a time, and nobody waits for it: while one request fetches, the others use the
    keys already held (or, with none yet, are told to come back later). After a failed fetch the
    next one waits a growing delay, whether or not keys are held, so requests naming random key
    ids never turn into one fetch each.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        lifespan: float = 600,
        unknown_kid_refetch_interval: float = 60,
        first_backoff: float = 5,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._lifespan = lifespan
        self._refetch_interval = unknown_kid_refetch_interval
        self._first_backoff = first_backoff
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._lock = threading.Lock()  # held only to read or change the state, never to fetch
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._next_refresh_at = 0.0
        self._last_unknown_kid_refetch: float | None = None
        self._fetching = False
        self._failures = 0

    def close(self) -> None:
        """Close the HTTP session if this cache created it."""
        if self._owns_session:
            self._session.close()

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The public key named `kid`, refreshing the key set when stale or when `kid` is new.

        Sends GET to the JWKS URL when needed (never following redirects). Raises KeysUnavailable
        when no key set can be had now, SignatureInvalid when `kid` is not in a fresh key set.
        """
        refreshed = self._start_fetch(unknown_kid=False) and self._fetch_and_keep()
        keys = self._keys
        if keys is None:
            raise KeysUnavailable("OneConnect's webhook keys could not be fetched.")
        key = keys.get(kid)
        if key is None and not refreshed:
            # The kid may belong to a rotated key we cannot see yet: decide later if the set
            # cannot be refreshed, or another request is refreshing it right now.
            if self._start_fetch(unknown_kid=True):
                if not self._fetch_and_keep():
                    raise KeysUnavailable("OneConnect's webhook keys could not be refreshed.")
                key = (self._keys or {}).get(kid)
            elif self._fetching:
                raise KeysUnavailable("OneConnect's webhook keys are being refreshed.")
        if key is None:
            raise SignatureInvalid(f"no verification key has the id {kid!r}")
        return key

    def _start_fetch(self, *, unknown_kid: bool) -> bool:
        """Whether this caller is the one to fetch now (if so, the fetch is marked begun).

        A stale set is fetched once its time has come; a kid we do not know, at most once per
        interval, and not while a failed fetch's delay runs."""
        with self._lock:
            if self._fetching:
                return False
            now = self._clock()
            due = now >= self._next_refresh_at
            if unknown_kid:
                last = self._last_unknown_kid_refetch
                due = (due or not self._failures) and (
                    last is None or now - last >= self._refetch_interval
                )
                if due:
                    self._last_unknown_kid_refetch = now
            self._fetching = due
            return due

    def _fetch_and_keep(self) -> bool:
        """Fetch the key set (the caller began the fetch); False when it failed."""
        keys = None
        try:
            keys = self._fetch()
        except (requests.RequestException, ValueError, jwt.PyJWTError) as exc:
            logger.warning("OneConnect JWKS refresh failed: %s", exc)
        finally:
            JWKS_FETCHES.labels(result="ok" if keys is not None else "failed").inc()
            with self._lock:
                self._fetching = False
                now = self._clock()
                if keys is None:
                    # Keep the last good set, and do not hammer the endpoint while it fails.
                    self._failures += 1
                    delay = self._first_backoff * 2 ** (self._failures - 1)
                    self._next_refresh_at = now + min(delay, self._refetch_interval, self._lifespan)
                else:
                    self._keys = keys
                    self._failures = 0
                    self._next_refresh_at = now + self._lifespan
        return keys is not None

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        response = self._session.get(
            self._url,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
            allow_redirects=False,
        )
        if response.status_code != 200:
            raise ValueError(f"the JWKS endpoint answered HTTP {response.status_code}")
        document = json.loads(response.content)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        key_set = jwt.PyJWKSet.from_dict(document)
        keys = {key.key_id: key for key in key_set.keys if _usable(key)}
        if not keys:
            raise ValueError("the JWKS has no usable signature verification key")
        return keys


def _usable(key: jwt.PyJWK) -> bool:
    # Only public signature keys with a kid, for an allowed algorithm, verify deliveries.
    return (
        isinstance(key.key_id, str)
        and bool(key.key_id)
        and isinstance(key.key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        and key.public_key_use in (None, "sig")
        and key.algorithm_name in spec.SIGNING_ALGORITHMS
    )


def verify_delivery(
    body: bytes,
    authorization: str | None,
    keys: JwksCache,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's `Authorization: Bearer <JWS>` against the raw body and return its claims
    (with the token's header under `_header`).

    May send a JWKS request through `keys`. Raises SignatureInvalid (missing or malformed token,
    no kid, algorithm not allowed, bad signature, stale or missing `iat`, body hash missing or
    different) and lets KeysUnavailable through.
    """
    token = _bearer_token(authorization)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"malformed token: {exc}") from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignatureInvalid("the token names no key (kid)")
    if header.get("alg") not in spec.SIGNING_ALGORITHMS:
        raise SignatureInvalid(f"algorithm {header.get('alg')!r} is not allowed")
    key = keys.key_for(kid)
    try:
        claims = jwt.decode(
            token, key=key, algorithms=list(spec.SIGNING_ALGORITHMS), options=_DECODE_OPTIONS
        )
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"token rejected: {exc}") from exc
    moment = time.time() if now is None else now
    _check_issued_at(claims, moment)
    _check_validity_window(claims, moment)
    _check_body_hash(claims, body)
    # The header is authentic now that the signature holds: it says which key vouched.
    return {**claims, "_header": header}


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise SignatureInvalid("no bearer token in the Authorization header")
    return token


def _check_issued_at(claims: dict[str, Any], now: float) -> None:
    issued_at = claims.get("iat")
    # bool is an int in Python, and PyJWT would accept "123" as well (pitfall 2).
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        raise SignatureInvalid("iat is missing or not an integer")
    if abs(now - issued_at) > spec.SIGNATURE_MAX_AGE_SECONDS:
        raise SignatureInvalid("iat is too far from now")


def _check_validity_window(claims: dict[str, Any], now: float) -> None:
    """OneConnect's tokens carry no `exp` nor `nbf`; one that does is held to them (against our
    `now`, as `iat` is): a signer that says its token expired, or is not valid yet, is believed."""
    for name in ("exp", "nbf"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise SignatureInvalid(f"{name} is not a number")
    if claims.get("exp") is not None and now >= claims["exp"]:
        raise SignatureInvalid("the token has expired")
    if claims.get("nbf") is not None and now < claims["nbf"]:
        raise SignatureInvalid("the token is not valid yet")


def _check_body_hash(claims: dict[str, Any], body: bytes) -> None:
    claimed = claims.get(spec.BODY_HASH_CLAIM)
    if not isinstance(claimed, str):
        raise SignatureInvalid(f"{spec.BODY_HASH_CLAIM} is missing")
    actual = hashlib.sha256(body).hexdigest()
    if not hmac.compare_digest(claimed.lower().encode(), actual.encode()):
        raise SignatureInvalid("the body does not match its signed hash")


@dataclass(frozen=True)
class CloudEvent:
    """A CloudEvents 1.0 event as OneConnect sends it; `raw` keeps every member, known or not."""

    id: str
    type: str
    source: str
    time: datetime
    data: dict[str, Any]
    raw: dict[str, Any]


def parse_cloudevent(body: bytes) -> CloudEvent:
    """Read a structured-mode CloudEvents 1.0 JSON body; raises NotACloudEvent saying why."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise NotACloudEvent("the body is not JSON") from exc
    if not isinstance(event, dict):
        raise NotACloudEvent("the body is not a JSON object")
    if event.get("specversion") != "1.0":
        raise NotACloudEvent("specversion is not 1.0")
    data = event.get("data")
    if not isinstance(data, dict):
        raise NotACloudEvent("data is not a JSON object")
    return CloudEvent(
        id=_required_string(event, "id"),
        type=_required_string(event, "type"),
        source=_required_string(event, "source"),
        time=_event_time(event.get("time")),
        data=data,
        raw=event,
    )


def _required_string(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise NotACloudEvent(f"{name} is missing or empty")
    return value


def _event_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise NotACloudEvent("time is missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise NotACloudEvent("time is not an ISO 8601 timestamp") from exc
    # The docs only say "ISO 8601"; a time without offset is read as UTC.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:59:59-01:00 is past the last datetime in UTC
        raise NotACloudEvent("time is out of range") from exc
