"""Every log record the test run writes, kept to be searched for secrets at the end: the
passwords, keys and integration secrets the tests use, and every token the sandbox issued."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from portal.sandbox.state import SandboxState


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = " ".join(f"{k}={v}" for k, v in vars(record).items() if isinstance(v, str))
        self.lines.append(f"{record.getMessage()} {fields}")


@contextmanager
def sandbox_secrets_remembered(into: set[str]) -> Iterator[None]:
    """Remember every integration secret the sandboxes create and every token they issue."""
    create: Callable[..., Any] = SandboxState.create_integration
    issue: Callable[..., Any] = SandboxState.issue_token

    def created(self: SandboxState, name: str) -> tuple[str, str]:
        integration_id, secret = create(self, name)
        into.add(secret)
        return integration_id, secret

    def issued(self: SandboxState, *args: Any, **kwargs: Any) -> Any:
        token = issue(self, *args, **kwargs)
        into.add(token.access_token)
        return token

    SandboxState.create_integration = created  # type: ignore[method-assign]
    SandboxState.issue_token = issued  # type: ignore[method-assign]
    try:
        yield
    finally:
        SandboxState.create_integration = create  # type: ignore[method-assign]
        SandboxState.issue_token = issue  # type: ignore[method-assign]


def leaks(lines: list[str], secrets: set[str]) -> list[str]:
    """The lines that carry one of the secrets."""
    return [line[:300] for line in lines if any(secret in line for secret in secrets)]
