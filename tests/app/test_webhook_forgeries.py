"""Forged webhook deliveries, as many ways as an attacker has: each is refused with 401 and
changes nothing (no event stored, the deposit as it was). Beside the table in test_webhooks.py,
this one walks the Authorization header, the JWS itself, its algorithm and key id, its claims,
and the body changed after signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Deposit, DepositStatus, WebhookEvent
from portal.oneconnect import spec
from tests.app.test_webhooks import URL, _resign_with_claims, decision, sent

__all__ = ["sent"]  # the fixture: a deposit OneConnect received

STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Delivery:
    """What one forgery starts from: the genuine body, its genuine token, and the means to make
    others (the sandbox's key id, its signer)."""

    body: bytes
    token: str
    kid: str
    sandbox: Any

    @property
    def now(self) -> int:
        return int(datetime.now(UTC).timestamp())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims = {"iat": self.now, spec.BODY_HASH_CLAIM: self.digest}
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not _DROP}

    def real_key(self, claims: dict[str, Any], kid: str | None = "real") -> str:
        return _resign_with_claims(self.sandbox, claims, self.kid if kid == "real" else kid)

    def stranger(self, claims: dict[str, Any], kid: str | None = "real") -> str:
        headers = {"kid": self.kid if kid == "real" else kid} if kid else {}
        return jwt.encode(claims, STRANGER, "RS256", headers=headers)


_DROP = object()
Forgery = Callable[[Delivery], tuple[str | None, bytes]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(delivery: Delivery, secret: bytes) -> str:
    """An HMAC-signed token, hand-made: PyJWT rightly refuses to sign HS256 with a PEM."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": delivery.kid}).encode())
    payload = _b64(json.dumps(delivery.claims()).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _public_pem(delivery: Delivery) -> bytes:
    from jwt.algorithms import RSAAlgorithm

    jwk = next(key for key in delivery.sandbox.state.jwks()["keys"] if key["kid"] == delivery.kid)
    public = RSAAlgorithm.from_jwk(json.dumps(jwk))
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _flip_last(token: str) -> str:
    return token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]


def _segments(token: str) -> list[str]:
    return token.split(".")


def _other_token(delivery: Delivery) -> str:
    return delivery.sandbox.state.sign(delivery.body.replace(b"forged", b"other"))


def _body(change: Callable[[bytes], bytes]) -> Forgery:
    """The genuine token sent with a body changed after it was signed."""
    return lambda d: (f"Bearer {d.token}", change(d.body))


def _authorization(make: Callable[[Delivery], str | None]) -> Forgery:
    return lambda d: (make(d), d.body)


FORGERIES: dict[str, Forgery] = {
    # The header itself.
    "no header": _authorization(lambda d: None),
    "empty header": _authorization(lambda d: ""),
    "bearer alone": _authorization(lambda d: "Bearer"),
    "bearer and a space": _authorization(lambda d: "Bearer "),
    "basic scheme": _authorization(lambda d: f"Basic {d.token}"),
    "token scheme": _authorization(lambda d: f"Token {d.token}"),
    "two tokens": _authorization(lambda d: f"Bearer {d.token} {d.token}"),
    "garbage": _authorization(lambda d: "Bearer not.a.jws"),
    "two segments": _authorization(lambda d: "Bearer " + ".".join(_segments(d.token)[:2])),
    "five segments": _authorization(lambda d: f"Bearer {d.token}.e30.e30"),
    "random base64": _authorization(lambda d: "Bearer " + _b64(b"\x00" * 200)),
    "json instead of a jws": _authorization(lambda d: "Bearer " + json.dumps(d.claims())),
    # The signature.
    "signature flipped": _authorization(lambda d: f"Bearer {_flip_last(d.token)}"),
    "signature removed": _authorization(
        lambda d: "Bearer " + ".".join(_segments(d.token)[:2]) + "."
    ),
    "signature of another token": _authorization(
        lambda d: "Bearer " + ".".join(_segments(d.token)[:2] + _segments(_other_token(d))[2:])
    ),
    "payload of another token": _authorization(
        lambda d: (
            "Bearer "
            + ".".join(
                [_segments(d.token)[0], _segments(_other_token(d))[1], _segments(d.token)[2]]
            )
        )
    ),
    "token of another body": _authorization(lambda d: f"Bearer {_other_token(d)}"),
    "stranger's key, real kid": _authorization(lambda d: "Bearer " + d.stranger(d.claims())),
    # The algorithm and the key id.
    "alg none": _authorization(
        lambda d: "Bearer " + jwt.encode(d.claims(), None, "none", headers={"kid": d.kid})
    ),
    "alg none, no signature dot": _authorization(
        lambda d: (
            "Bearer "
            + ".".join(_segments(jwt.encode(d.claims(), None, "none", headers={"kid": d.kid}))[:2])
        )
    ),
    "hs256 with the public key": _authorization(lambda d: "Bearer " + _hs256(d, _public_pem(d))),
    "hs256 with the kid": _authorization(lambda d: "Bearer " + _hs256(d, d.kid.encode())),
    "hs256 with nothing": _authorization(lambda d: "Bearer " + _hs256(d, b"")),
    "no kid": _authorization(lambda d: "Bearer " + d.real_key(d.claims(), kid=None)),
    "empty kid": _authorization(lambda d: "Bearer " + d.real_key(d.claims(), kid="")),
    "unknown kid": _authorization(lambda d: "Bearer " + d.stranger(d.claims(), kid="who-knows")),
    "stranger, no kid": _authorization(lambda d: "Bearer " + d.stranger(d.claims(), kid=None)),
    # The claims, signed with the real key.
    "no iat": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=_DROP))),
    "iat as text": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=str(d.now)))),
    "iat stale": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=d.now - 310))),
    "iat an hour old": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=d.now - 3600))),
    "iat ahead": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=d.now + 310))),
    "iat zero": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=0))),
    "iat in the year 3000": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(iat=32503680000))
    ),
    "iat negative": _authorization(lambda d: "Bearer " + d.real_key(d.claims(iat=-1))),
    "no body hash": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: _DROP}))
    ),
    "empty body hash": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: ""}))
    ),
    "body hash of nothing": _authorization(
        lambda d: (
            "Bearer "
            + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: hashlib.sha256(b"").hexdigest()}))
        )
    ),
    "body hash truncated": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: d.digest[:32]}))
    ),
    "body hash as a number": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: 12345}))
    ),
    "body hash in base64": _authorization(
        lambda d: (
            "Bearer "
            + d.real_key(
                d.claims(
                    **{
                        spec.BODY_HASH_CLAIM: base64.b64encode(
                            hashlib.sha256(d.body).digest()
                        ).decode()
                    }
                )
            )
        )
    ),
    "body hash with spaces": _authorization(
        lambda d: "Bearer " + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: f" {d.digest} "}))
    ),
    "body hash as md5": _authorization(
        lambda d: (
            "Bearer "
            + d.real_key(d.claims(**{spec.BODY_HASH_CLAIM: hashlib.md5(d.body).hexdigest()}))
        )
    ),
    "exp as text": _authorization(lambda d: "Bearer " + d.real_key(d.claims(exp=str(d.now + 60)))),
    "expired": _authorization(lambda d: "Bearer " + d.real_key(d.claims(exp=d.now - 60))),
    "not yet valid": _authorization(lambda d: "Bearer " + d.real_key(d.claims(nbf=d.now + 3600))),
    # The body, changed after it was signed.
    "state changed": _body(lambda body: body.replace(b"Refused", b"Accepted")),
    "reason changed": _body(lambda body: body.replace(b"forged", b"FORGED")),
    "document changed": _body(lambda body: body.replace(b'"documentId": "', b'"documentId": "x')),
    "newline appended": _body(lambda body: body + b"\n"),
    "space prepended": _body(lambda body: b" " + body),
    "last byte cut": _body(lambda body: body[:-1]),
    "emptied": _body(lambda body: b""),
    "indented": _body(lambda body: json.dumps(json.loads(body), indent=2).encode()),
    "keys reordered": _body(
        lambda body: json.dumps(dict(reversed(list(json.loads(body).items())))).encode()
    ),
    "escaped unicode": _body(
        lambda body: (
            json.dumps(json.loads(body), ensure_ascii=True).replace("F", "\\u0046", 1).encode()
        )
    ),
    "state given twice": _body(
        lambda body: body.replace(
            b'"documentState": "Refused"',
            b'"documentState": "Refused", "documentState": "Accepted"',
        )
    ),
}


def test_the_table_walks_at_least_fifty_forgeries() -> None:
    assert len(FORGERIES) >= 50


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forgery_is_refused_and_changes_nothing(
    client: FlaskClient, sandbox, sent: Deposit, name: str
) -> None:
    event = decision(sent, "Refused", data={"rejectionReason": "forged"})
    body = json.dumps(event).encode()
    kid = sandbox.state.jwks()["keys"][0]["kid"]
    delivery = Delivery(body=body, token=sandbox.state.sign(body), kid=kid, sandbox=sandbox)
    authorization, sent_body = FORGERIES[name](delivery)
    headers = {"Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.post(URL, data=sent_body, headers=headers)
    assert response.status_code == 401, (name, response.status_code)
    db.session.refresh(sent)
    assert sent.status is DepositStatus.SENT and sent.rejection_reason is None
    assert db.session.scalars(select(WebhookEvent)).first() is None


def test_the_genuine_delivery_the_forgeries_start_from_is_accepted(
    client: FlaskClient, sandbox, sent: Deposit
) -> None:
    event = decision(sent, "Refused", data={"rejectionReason": "forged"})
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": spec.CLOUDEVENTS_CONTENT_TYPE,
        "Authorization": f"Bearer {sandbox.state.sign(body)}",
    }
    assert client.post(URL, data=body, headers=headers).status_code in (200, 202)
    db.session.refresh(sent)
    assert sent.status is DepositStatus.REFUSED
