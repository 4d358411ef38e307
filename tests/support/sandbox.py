"""The simulated OneConnect served on a real port, for tests that talk to it over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from flask import Flask
from werkzeug.serving import make_server

from portal.oneconnect.client import OneConnectClient
from portal.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SCOPE,
    create_sandbox_app,
)
from portal.sandbox.api import API_PREFIX, JWKS_PATH, TOKEN_PATH
from portal.sandbox.state import SandboxState


class SandboxServer:
    """`create_sandbox_app(config)` served on a free 127.0.0.1 port by a daemon thread."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.app: Flask = create_sandbox_app(config)
        self.state: SandboxState = self.app.extensions["sandbox"]
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.api_base = self.url + API_PREFIX
        self.token_url = self.url + TOKEN_PATH
        self.jwks_url = self.url + JWKS_PATH
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

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
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self.state.close()
