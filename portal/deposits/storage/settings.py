"""Where the files are kept when the portal uses object storage: PORTAL_STORAGE_URL and the
PORTAL_S3_* settings beside it, checked when the app starts (no Flask, no boto3 here)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# S3's rules for a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()/-]*")


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str  # "" or ending with "/"
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> S3Settings:
        """The settings of STORAGE_URL (`s3://bucket/prefix`) and S3_*; ValueError, naming the
        variable, for anything malformed or incomplete."""
        bucket, prefix = _location(str(config["STORAGE_URL"]))
        access_key = _text(config.get("S3_ACCESS_KEY_ID"))
        secret_key = _text(config.get("S3_SECRET_ACCESS_KEY"))
        if bool(access_key) != bool(secret_key):
            raise ValueError(
                "PORTAL_S3_ACCESS_KEY_ID and PORTAL_S3_SECRET_ACCESS_KEY go together: set both, "
                "or neither to use the standard AWS credentials (AWS_ACCESS_KEY_ID, a profile, "
                "an instance role)"
            )
        return cls(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=_endpoint(_text(config.get("S3_ENDPOINT_URL"))),
            region=_text(config.get("S3_REGION")),
            access_key_id=access_key,
            secret_access_key=secret_key,
        )


def _location(url: str) -> tuple[str, str]:
    parts = urlsplit(url.strip())
    if "@" in parts.netloc:  # never echoed: it may hold a key
        raise ValueError(
            "PORTAL_STORAGE_URL must not hold credentials: set PORTAL_S3_ACCESS_KEY_ID and "
            "PORTAL_S3_SECRET_ACCESS_KEY, or the standard AWS variables"
        )
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"PORTAL_STORAGE_URL must read s3://bucket/prefix, not {url!r}")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise ValueError(f"PORTAL_STORAGE_URL names an invalid S3 bucket: {parts.netloc!r}")
    prefix = parts.path.strip("/")
    if not _PREFIX.fullmatch(prefix) or "//" in prefix:
        raise ValueError(f"PORTAL_STORAGE_URL has a prefix S3 keys should not hold: {prefix!r}")
    return parts.netloc, f"{prefix}/" if prefix else ""


def _endpoint(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username or parts.password:  # keys in a URL end up in logs (and in this message)
        raise ValueError("PORTAL_S3_ENDPOINT_URL must not hold credentials")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"PORTAL_S3_ENDPOINT_URL must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
