"""Fixtures of the unit tests: a sandbox on a real port, a client for it, a stub server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.oneconnect.client import OneConnectClient
from tests.support.sandbox import SandboxServer
from tests.support.stub import StubServer

FAST_SANDBOX = {
    "SANDBOX_DECISION_DELAY": None,
    "SANDBOX_WEBHOOK_RETRY_DELAYS": (0.05, 0.1, 0.2),
    "SANDBOX_WEBHOOK_TIMEOUT": 2.0,
}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox with manual decisions only and quick webhook retries."""
    server = SandboxServer(FAST_SANDBOX)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def integration(sandbox: SandboxServer) -> tuple[str, str]:
    """(integration_id, integration_secret) of an active integration of the sandbox."""
    return sandbox.state.create_integration("Boulangerie Martin")


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[OneConnectClient]:
    """A OneConnect client configured for the sandbox."""
    with sandbox.client() as oneconnect:
        yield oneconnect


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A recording HTTP server on 127.0.0.1."""
    server = StubServer()
    try:
        yield server
    finally:
        server.stop()
