"""A WSGI app served on 127.0.0.1 by a daemon thread, for tests that talk over real HTTP."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import WSGIRequestHandler, make_server


class BackgroundServer:
    """Serves `app` until stop(); port 0 takes a free one. Usable as a context manager."""

    def __init__(
        self,
        app: Any,
        *,
        name: str,
        port: int = 0,
        request_handler: type[WSGIRequestHandler] | None = None,
    ) -> None:
        self._server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=request_handler
        )
        # Requests in flight finish before stop() returns, so none holds a database connection
        # past the test (their threads are joined by server_close).
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=name,
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

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
