"""The simulated OneConnect served on a real port, for tests that talk to it over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from portal.oneconnect.client import OneConnectClient
from portal.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SCOPE,
    create_sandbox_app,
)
from portal.sandbox.api import API_PREFIX, JWKS_PATH, TOKEN_PATH
from portal.sandbox.state import SandboxState
from tests.support.serving import BackgroundServer


class SandboxServer(BackgroundServer):
    """`create_sandbox_app(config)` served on a free 127.0.0.1 port by a daemon thread."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.app: Flask = create_sandbox_app(config)
        self.state: SandboxState = self.app.extensions["sandbox"]
        super().__init__(self.app, name="sandbox-server")
        self.api_base = self.url + API_PREFIX
        self.token_url = self.url + TOKEN_PATH
        self.jwks_url = self.url + JWKS_PATH

    def client(self, *, api_base: str | None = None, **options: Any) -> OneConnectClient:
        """A client with the sandbox's partner credentials (close it); options go to the client."""
        return OneConnectClient(
            self.token_url,
            api_base or self.api_base,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_SCOPE,
            **options,
        )

    def stop(self) -> None:
        """Stop serving, then stop the sandbox's background work and close its database."""
        super().stop()
        self.state.close()
