"""What every file store offers the portal, and the errors they share (no Flask here)."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol


class StorageUnavailable(Exception):
    """The file store cannot be reached or refused the operation (an outage, wrong credentials,
    a missing bucket): nothing was stored, read or deleted. The message names the store and the
    reason, never a credential."""


class Store(Protocol):
    """Deposited files under keys the store generates. A key the store does not hold raises
    FileNotFoundError, as a missing file does; an unreachable store raises StorageUnavailable."""

    def save(self, stream: BinaryIO) -> str:
        """Write the stream (from its start) durably; returns the new key. The stream is left
        open, at its start."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The file, readable and seekable from its start; the caller closes it."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a key already gone is no error."""
        ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A path on this machine holding the file, for libraries that need a real file; it is
        valid inside the block only (a copy, when the store is remote, deleted after)."""
        ...


def new_key() -> str:
    return uuid.uuid4().hex


def checked_key(key: str) -> str:
    if not key.isalnum():  # keys are ours (uuid hex); refuse anything that could walk paths
        raise ValueError("invalid storage key")
    return key
