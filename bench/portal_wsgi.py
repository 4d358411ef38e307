"""The portal as `make bench` serves it with gunicorn: the bench's database and instance folder
(PORTAL_BENCH_URL, PORTAL_BENCH_INSTANCE), the sandbox's keys for webhooks
(PORTAL_BENCH_JWKS_URL), no sender thread, no sign-in throttling."""

from __future__ import annotations

import os
from pathlib import Path

from bench.seeding import build_app

app = build_app(
    Path(os.environ["PORTAL_BENCH_INSTANCE"]),
    os.environ["PORTAL_BENCH_URL"],
    ONECONNECT_JWKS_URL=os.environ["PORTAL_BENCH_JWKS_URL"],
)
