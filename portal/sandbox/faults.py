"""Scripted misbehaviour of the simulated OneConnect, so tests can meet upstream failures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum

from portal.catalogue import lazy_gettext as _l


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


@dataclass(frozen=True)
class Hang:
    """Wait `seconds` before handling the call (a client with a shorter timeout gives up, but
    the call is still carried out: its answer is lost)."""

    seconds: float


@dataclass(frozen=True)
class LoseAnswer:
    """Carry the call out, then drop the connection instead of answering."""


@dataclass(frozen=True)
class ResetConnection:
    """Drop the connection before doing anything."""


Fault = ScriptedAnswer | Hang | LoseAnswer | ResetConnection

# The kinds a person can choose in the console, with what they do (in the console's language).
CONSOLE_FAULTS = {
    "fail": _l("Fail with 503 Service Unavailable"),
    "hang": _l("Hang for S seconds, then carry the call out"),
    "lose": _l("Carry the call out, then lose the answer"),
    "reset": _l("Reset the connection"),
    "token": _l("Token endpoint down (503)"),
}


@dataclass
class _Pending:
    target: Target
    remaining: int
    answer: Fault


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

    def hang_next(self, seconds: float, *, count: int = 1, target: Target = Target.API) -> None:
        """Make the next `count` calls wait `seconds` before being carried out."""
        self._add(target, count, Hang(seconds))

    def lose_next_answer(self, *, count: int = 1) -> None:
        """Carry out the next `count` API calls, then drop their connections unanswered."""
        self._add(Target.API, count, LoseAnswer())

    def reset_next(self, *, count: int = 1, target: Target = Target.API) -> None:
        """Drop the next `count` connections to `target` before doing anything."""
        self._add(target, count, ResetConnection())

    def schedule(self, kind: str, *, count: int = 1, seconds: float = 5.0) -> None:
        """A console choice (a key of CONSOLE_FAULTS) for the next `count` calls."""
        if kind == "fail":
            self.fail_next(count)
        elif kind == "hang":
            self.hang_next(seconds, count=count)
        elif kind == "lose":
            self.lose_next_answer(count=count)
        elif kind == "reset":
            self.reset_next(count=count)
        elif kind == "token":
            self.fail_next(count, target=Target.TOKEN)
        else:
            raise ValueError(f"unknown fault {kind!r}")

    def pending(self) -> list[tuple[str, int, str]]:
        """What is waiting: (target, remaining calls, description in English)."""
        return [
            (target.value, remaining, _describe(answer))
            for target, remaining, answer in self.waiting()
        ]

    def waiting(self) -> list[tuple[Target, int, Fault]]:
        """What is waiting, for the console to describe: (target, remaining calls, answer)."""
        with self._lock:
            return [(p.target, p.remaining, p.answer) for p in self._pending]

    def take(self, target: Target) -> Fault | None:
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


def _describe(fault: Fault) -> str:
    if isinstance(fault, Hang):
        return f"hang {fault.seconds:g} s"
    if isinstance(fault, LoseAnswer):
        return "lose the answer"
    if isinstance(fault, ResetConnection):
        return "reset the connection"
    return f"answer {fault.status}"
