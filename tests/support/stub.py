"""A tiny HTTP server on 127.0.0.1 that records what it receives and answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    delay: float


class StubServer:
    """Plays an upstream or a webhook receiver: answers are queued, the last one repeats."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._answers: list[_Answer] = [_Answer(204, {}, b"", 0.0)]
        self._changed = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="stub-server",
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

    def answer(
        self,
        status: int = 200,
        *,
        json_body: Any = None,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        then: bool = False,
    ) -> None:
        """Answer the next requests so; with `then`, after the answers already queued."""
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        if content_type:
            all_headers["Content-Type"] = content_type
        answer = _Answer(status, all_headers, body, delay)
        with self._changed:
            self._answers = [*self._answers, answer] if then else [answer]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """The first `count` recorded requests, waiting up to `timeout` seconds for them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests received, {count} expected")
            return self.requests[:count]

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        recorded = Recorded(
            request.method, request.full_path.rstrip("?"), dict(request.headers), request.get_data()
        )
        with self._changed:
            self.requests.append(recorded)
            answer = self._answers[0] if len(self._answers) == 1 else self._answers.pop(0)
            self._changed.notify_all()
        if answer.delay:
            time.sleep(answer.delay)
        response = Response(answer.body, status=answer.status, headers=answer.headers)
        return response(environ, start_response)
