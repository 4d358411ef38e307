"""The sandbox's webhook signing keys: generation, public JWKs and signed delivery tokens."""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.oneconnect import spec

SIGNING_ALGORITHM = "RS256"


def new_private_key_pem() -> str:
    """A fresh 2048-bit RSA private key, PEM-encoded (PKCS#8, unencrypted)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_jwk(private_pem: str, kid: str) -> dict[str, Any]:
    """The public half of a signing key as a JWK naming its kid, algorithm and use."""
    private_key = _load(private_pem)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    # RFC 7517 advises against `key_ops` beside `use`.
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"}


def sign_delivery(body: bytes, private_pem: str, kid: str, issued_at: int) -> str:
    """The compact JWS for `Authorization: Bearer`, binding `iat` and the body's SHA-256."""
    claims = {"iat": issued_at, spec.BODY_HASH_CLAIM: hashlib.sha256(body).hexdigest()}
    return jwt.encode(claims, _load(private_pem), algorithm=SIGNING_ALGORITHM, headers={"kid": kid})


def _load(private_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the sandbox signs with RSA keys only")
    return key
