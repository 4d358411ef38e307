"""Webhook signature checks with locally generated keys served as a JWKS over real HTTP."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portal.oneconnect import spec
from portal.oneconnect.webhooks import (
    JwksCache,
    KeysUnavailable,
    SignatureInvalid,
    verify_delivery,
)
from tests.support.stub import StubServer

NOW = 1_773_050_000
BODY = b'{"specversion":"1.0","id":"e1","type":"DocumentStatus"}'
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "ES256", "use": "sig"}


@pytest.fixture
def jwks_server(
    stub: StubServer, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> StubServer:
    stub.answer(200, json_body={"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")]})
    return stub


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(jwks_server: StubServer, clock: FakeClock) -> Iterator[JwksCache]:
    cache = JwksCache(jwks_server.url + "/jwks.json", clock=clock, timeout=2)
    try:
        yield cache
    finally:
        cache.close()


def token(
    key: Any,
    *,
    kid: str | None = "rsa-1",
    alg: str = "RS256",
    body: bytes = BODY,
    **claims: Any,
) -> str:
    payload = {"iat": NOW, spec.BODY_HASH_CLAIM: hashlib.sha256(body).hexdigest(), **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def verify(authorization: str | None, keys: JwksCache, body: bytes = BODY) -> dict[str, Any]:
    return verify_delivery(body, authorization, keys, now=NOW)


def test_rs256_delivery_is_accepted(rsa_key: rsa.RSAPrivateKey, keys: JwksCache) -> None:
    claims = verify(f"Bearer {token(rsa_key)}", keys)

    assert claims["iat"] == NOW


def test_es256_delivery_is_accepted(ec_key: ec.EllipticCurvePrivateKey, keys: JwksCache) -> None:
    assert verify(f"Bearer {token(ec_key, kid='ec-1', alg='ES256')}", keys)["iat"] == NOW


def test_body_hash_is_compared_case_insensitively(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    upper = hashlib.sha256(BODY).hexdigest().upper()
    signed = token(rsa_key, **{spec.BODY_HASH_CLAIM: upper})

    assert verify(f"Bearer {signed}", keys)[spec.BODY_HASH_CLAIM] == upper


@pytest.mark.parametrize(
    "offset", [-spec.SIGNATURE_MAX_AGE_SECONDS, spec.SIGNATURE_MAX_AGE_SECONDS]
)
def test_iat_at_the_edge_of_the_window_is_accepted(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, offset: int
) -> None:
    verify(f"Bearer {token(rsa_key, iat=NOW + offset)}", keys)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "bearer-token-without-scheme"],
)
def test_missing_or_non_bearer_authorization_is_refused(
    keys: JwksCache, authorization: str | None
) -> None:
    with pytest.raises(SignatureInvalid, match="bearer"):
        verify(authorization, keys)


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "e30.e30.", "!!!.???.###", "x" * 40])
def test_malformed_tokens_are_refused_not_crashing(keys: JwksCache, garbage: str) -> None:
    with pytest.raises(SignatureInvalid):
        verify(f"Bearer {garbage}", keys)


def test_token_without_kid_is_refused(rsa_key: rsa.RSAPrivateKey, keys: JwksCache) -> None:
    with pytest.raises(SignatureInvalid, match="kid"):
        verify(f"Bearer {token(rsa_key, kid=None)}", keys)


def test_unknown_kid_is_refused(rsa_key: rsa.RSAPrivateKey, keys: JwksCache) -> None:
    with pytest.raises(SignatureInvalid, match="no verification key"):
        verify(f"Bearer {token(rsa_key, kid='rotated-away')}", keys)


def test_alg_none_is_refused(keys: JwksCache) -> None:
    unsigned = jwt.encode({"iat": NOW}, None, algorithm="none", headers={"kid": "rsa-1"})

    with pytest.raises(SignatureInvalid, match="not allowed"):
        verify(f"Bearer {unsigned}", keys)


def test_hs256_keyed_with_the_public_key_is_refused(
    keys: JwksCache, jwks_server: StubServer
) -> None:
    forged = token(b"a-shared-secret-long-enough-for-hmac-256!", alg="HS256")

    with pytest.raises(SignatureInvalid, match="not allowed"):
        verify(f"Bearer {forged}", keys)
    assert jwks_server.requests == []  # refused before any key was looked up


def test_algorithm_that_does_not_fit_the_key_is_refused(
    ec_key: ec.EllipticCurvePrivateKey, keys: JwksCache
) -> None:
    # Signed ES256 but naming the RSA key.
    with pytest.raises(SignatureInvalid):
        verify(f"Bearer {token(ec_key, kid='rsa-1', alg='ES256')}", keys)


def test_signature_by_another_key_is_refused(keys: JwksCache) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(SignatureInvalid, match="Signature verification failed"):
        verify(f"Bearer {token(stranger)}", keys)


def test_tampered_body_is_refused(rsa_key: rsa.RSAPrivateKey, keys: JwksCache) -> None:
    with pytest.raises(SignatureInvalid, match="body"):
        verify(f"Bearer {token(rsa_key)}", keys, body=BODY.replace(b"e1", b"e2"))


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": None},
        {"iat": str(NOW)},
        {"iat": True},
        {"iat": float(NOW)},
        {"iat": NOW - spec.SIGNATURE_MAX_AGE_SECONDS - 1},
        {"iat": NOW + spec.SIGNATURE_MAX_AGE_SECONDS + 1},
        {spec.BODY_HASH_CLAIM: None},
        {spec.BODY_HASH_CLAIM: 12345},
        {spec.BODY_HASH_CLAIM: "é" * 64},
    ],
    ids=[
        "no-iat",
        "iat-string",
        "iat-bool",
        "iat-float",
        "iat-stale",
        "iat-future",
        "no-hash",
        "hash-number",
        "hash-non-ascii",
    ],
)
def test_bad_claims_are_refused(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, claims: dict[str, Any]
) -> None:
    with pytest.raises(SignatureInvalid):
        verify(f"Bearer {token(rsa_key, **claims)}", keys)


def test_audience_or_unknown_claims_do_not_matter(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    verify(f"Bearer {token(rsa_key, aud='someone', jti='x', extra={'a': 1})}", keys)


def test_keys_are_fetched_once_then_cached_for_their_lifespan(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, jwks_server: StubServer, clock: FakeClock
) -> None:
    for _ in range(3):
        verify(f"Bearer {token(rsa_key)}", keys)
    assert len(jwks_server.requests) == 1
    assert jwks_server.requests[0].path == "/jwks.json"

    clock.now += 600
    verify(f"Bearer {token(rsa_key)}", keys)
    assert len(jwks_server.requests) == 2


def test_unknown_kid_refetches_at_most_once_per_interval(
    keys: JwksCache, jwks_server: StubServer, clock: FakeClock
) -> None:
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys.key_for("rsa-1")
    jwks_server.answer(200, json_body={"keys": [public_jwk(rotated, "rsa-2")]})

    assert keys.key_for("rsa-2").key_id == "rsa-2"  # refetched on the new kid
    assert len(jwks_server.requests) == 2
    for unknown in ("rsa-3", "rsa-4"):
        with pytest.raises(SignatureInvalid):
            keys.key_for(unknown)
    assert len(jwks_server.requests) == 2  # not again within the interval

    clock.now += 60
    with pytest.raises(SignatureInvalid):
        keys.key_for("rsa-4")
    assert len(jwks_server.requests) == 3


def test_failed_refresh_keeps_the_last_good_keys(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, jwks_server: StubServer, clock: FakeClock
) -> None:
    verify(f"Bearer {token(rsa_key)}", keys)
    jwks_server.answer(500, body=b"down")
    clock.now += 600

    verify(f"Bearer {token(rsa_key)}", keys)
    verify(f"Bearer {token(rsa_key)}", keys)

    assert len(jwks_server.requests) == 2  # no hammering while the endpoint fails


def test_failed_refetch_for_an_unknown_kid_means_try_later(
    keys: JwksCache, jwks_server: StubServer
) -> None:
    keys.key_for("rsa-1")
    jwks_server.answer(503, body=b"down")

    with pytest.raises(KeysUnavailable):
        keys.key_for("maybe-rotated")


def test_a_failing_jwks_is_not_fetched_again_for_each_random_kid_even_with_no_keys_cached(
    jwks_server: StubServer, clock: FakeClock
) -> None:
    jwks_server.answer(503, body=b"down")
    cache = JwksCache(jwks_server.url + "/jwks.json", clock=clock, timeout=2)
    try:
        for number in range(51):
            with pytest.raises(KeysUnavailable):
                cache.key_for(f"random-{number}")
        assert len(jwks_server.requests) == 1

        clock.now += 5  # the first delay after a failure, then a growing one
        with pytest.raises(KeysUnavailable):
            cache.key_for("random")
        clock.now += 5
        with pytest.raises(KeysUnavailable):
            cache.key_for("random")
        assert len(jwks_server.requests) == 2
        clock.now += 5
        with pytest.raises(KeysUnavailable):
            cache.key_for("random")
        assert len(jwks_server.requests) == 3
    finally:
        cache.close()


def test_a_request_never_waits_for_another_ones_fetch(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, jwks_server: StubServer, clock: FakeClock
) -> None:
    keys.key_for("rsa-1")
    jwks_server.answer(200, json_body={"keys": [public_jwk(rsa_key, "rsa-1")]}, delay=3)
    clock.now += 600  # stale: the next caller fetches, slowly
    slow = threading.Thread(target=keys.key_for, args=("rsa-1",))
    slow.start()
    jwks_server.wait_for(2)

    assert keys.key_for("rsa-1").key_id == "rsa-1"  # the keys held, not the fetch's
    with pytest.raises(KeysUnavailable):
        keys.key_for("rotated")  # unknown while a fetch is under way: decide later
    assert slow.is_alive()  # both answered while the other fetch was still waiting
    slow.join()
    assert len(jwks_server.requests) == 2


def test_a_cold_cache_answers_later_while_another_request_fetches(
    rsa_key: rsa.RSAPrivateKey, jwks_server: StubServer
) -> None:
    jwks_server.answer(200, json_body={"keys": [public_jwk(rsa_key, "rsa-1")]}, delay=3)
    cache = JwksCache(jwks_server.url + "/jwks.json", timeout=5)
    try:
        slow = threading.Thread(target=cache.key_for, args=("rsa-1",))
        slow.start()
        jwks_server.wait_for(1)
        with pytest.raises(KeysUnavailable):
            cache.key_for("rsa-1")
        assert slow.is_alive()
        slow.join()
        assert cache.key_for("rsa-1").key_id == "rsa-1"
        assert len(jwks_server.requests) == 1
    finally:
        cache.close()


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, b"down", {}),
        (200, b"<html>not json</html>", {}),
        (200, b"[1, 2]", {}),
        (200, b'{"keys": []}', {}),
        (200, b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}', {}),
        (302, b"", {"Location": "https://elsewhere.example/jwks.json"}),
    ],
    ids=["error", "not-json", "not-object", "empty", "symmetric-only", "redirect"],
)
def test_no_usable_key_set_means_keys_unavailable(
    rsa_key: rsa.RSAPrivateKey,
    keys: JwksCache,
    jwks_server: StubServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> None:
    jwks_server.answer(status, body=body, content_type="application/json", headers=headers)

    with pytest.raises(KeysUnavailable):
        verify(f"Bearer {token(rsa_key)}", keys)


def test_unreachable_jwks_means_keys_unavailable(rsa_key: rsa.RSAPrivateKey) -> None:
    with StubServer() as gone:
        url = gone.url
    cache = JwksCache(url, timeout=1)
    try:
        with pytest.raises(KeysUnavailable):
            verify(f"Bearer {token(rsa_key)}", cache)
    finally:
        cache.close()


def test_unusable_keys_are_skipped(
    rsa_key: rsa.RSAPrivateKey, keys: JwksCache, jwks_server: StubServer
) -> None:
    jwks_server.answer(
        200,
        json_body={
            "keys": [
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                "not-a-key",
                {**public_jwk(rsa_key, "enc-1"), "use": "enc"},
                public_jwk(rsa_key, "rsa-1"),
            ]
        },
    )

    verify(f"Bearer {token(rsa_key)}", keys)
    for kid in ("broken", "hmac", "enc-1"):
        with pytest.raises(SignatureInvalid):
            keys.key_for(kid)


def test_signed_claims_round_trip_json(rsa_key: rsa.RSAPrivateKey, keys: JwksCache) -> None:
    body = json.dumps({"data": {"note": "Électricité"}}, ensure_ascii=False).encode()

    claims = verify(f"Bearer {token(rsa_key, body=body)}", keys, body=body)

    assert claims[spec.BODY_HASH_CLAIM] == hashlib.sha256(body).hexdigest()
