"""The portal and its anchor served alike (gunicorn, the same workers), and a plain HTTP client
that times one request at a time."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

WORKERS = os.environ.get("PORTAL_BENCH_WORKERS", "2")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(application: str, env: dict[str, str]) -> Iterator[int]:
    """`application` served on a free port by gunicorn's sync workers until the block ends."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        WORKERS,
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        application,
    ]
    # The portal's JSON log lines are written (their cost is part of the measure), not shown.
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


class Client:
    """One request at a time to 127.0.0.1:`port`, keeping the session cookie it is given."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, float]:
        """Status, body and the seconds from sending to the last byte read."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        wanted = {"Accept-Language": "fr", **(headers or {})}
        if self.cookies:
            wanted["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=wanted)
        response = connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name.strip()] = value
        connection.close()
        return response.status, data, elapsed

    def sign_in(self, email: str, password: str) -> None:
        form = f"email={email.replace('@', '%40')}&password={password.replace(' ', '+')}"
        status, _, _ = self.request(
            "POST",
            "/login",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status not in (302, 303):
            raise RuntimeError(f"sign-in answered {status}")


@contextmanager
def portal_and_anchor(instance: Path, url: str, jwks_url: str) -> Iterator[tuple[Client, Client]]:
    with ExitStack() as stack:
        env = {
            "PORTAL_BENCH_INSTANCE": str(instance),
            "PORTAL_BENCH_URL": url,
            "PORTAL_BENCH_JWKS_URL": jwks_url,
        }
        portal = stack.enter_context(gunicorn("bench.portal_wsgi:app", env))
        anchor = stack.enter_context(gunicorn("bench.anchor:app", {}))
        yield Client(portal), Client(anchor)
