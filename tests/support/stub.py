"""A tiny HTTP server on 127.0.0.1 that records what it receives and answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.serving import BackgroundServer


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


class StubServer(BackgroundServer):
    """Plays an upstream or a webhook receiver: answers are queued, the last one repeats."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._answers: list[_Answer] = [_Answer(204, {}, b"", 0.0)]
        self._changed = threading.Condition()
        super().__init__(self._wsgi, name="stub-server")

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
