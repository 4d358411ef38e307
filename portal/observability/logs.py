"""Log lines as JSON on stdout, one object per line, with secrets masked as a second line of
defence (the code never logs one on purpose)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

_HANDLER_NAME = "portal-json"
# Shapes a secret takes in a message: bearer tokens, and `password=` / `secret: …` pairs.
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_PAIR = re.compile(r"(?i)\b(password|secret|token|api[_-]?key)(\s*[=:]\s*)([^\s,;&]+)")
MASK = "[masked]"


class _Stdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at the time (test runners and servers swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stdout

    @stream.setter
    def stream(self, value: object) -> None:  # StreamHandler sets it; stdout wins
        pass


class Redactor(logging.Filter):
    """Masks the values it was given (the running app's own secrets) and secret-shaped text in
    every record's message and fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
        return _PAIR.sub(lambda m: m.group(1) + m.group(2) + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and name not in ("msg", "name", "levelname", "pathname"):
                setattr(record, name, self.mask(value))
        return True


def configure(level: str, secrets: Iterable[str] = ()) -> Redactor:
    """JSON lines on stdout for every logger (once per process; later calls update the level
    and the secrets masked)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _Stdout()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601, UTC
            )
        )
        root.addHandler(handler)
    redactor = next((f for f in handler.filters if isinstance(f, Redactor)), None)
    if redactor is None:
        redactor = Redactor()
        handler.addFilter(redactor)
    redactor.secrets = Redactor(secrets).secrets
    root.setLevel(level.upper())
    return redactor
