"""Scripted misbehaviour of the simulated OneConnect, so tests can meet upstream failures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum


class Target(StrEnum):
    """Which side of the simulated upstream a fault hits."""

    TOKEN = "token"
    API = "api"
    JWKS = "jwks"


@dataclass(frozen=True)
class ScriptedAnswer:
    """An answer given instead of the real one; `body` is sent as problem details when set."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, object] | None = None


@dataclass
class _Pending:
    target: Target
    remaining: int
    answer: ScriptedAnswer


class Faults:
    """Faults waiting for the next calls, consumed in the order they were added; thread-safe.

    Each kind of fault is a way of answering one call; new kinds (hanging, losing the answer
    after processing, resetting the connection) slot in beside ScriptedAnswer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def fail_next(
        self,
        count: int = 1,
        *,
        target: Target = Target.API,
        status: int = 503,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `count` calls to `target` with `status` (503 by default)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {
            "type": "urn:oneconnect-sandbox:problem:simulated-failure",
            "title": "Simulated failure",
            "status": status,
            "detail": "The sandbox was told to fail this call.",
        }
        self._add(target, count, ScriptedAnswer(status, headers, body))

    def redirect_next(
        self, location: str, *, count: int = 1, target: Target = Target.API, status: int = 307
    ) -> None:
        """Answer the next `count` calls to `target` with a redirect to `location`."""
        self._add(target, count, ScriptedAnswer(status, {"Location": location}))

    def take(self, target: Target) -> ScriptedAnswer | None:
        """The answer the next call to `target` must get instead of the real one, if any."""
        with self._lock:
            for pending in self._pending:
                if pending.target == target:
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        self._pending.remove(pending)
                    return pending.answer
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._pending.clear()

    def _add(self, target: Target, count: int, answer: ScriptedAnswer) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._pending.append(_Pending(target, count, answer))
