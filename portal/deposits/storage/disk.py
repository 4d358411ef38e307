"""Deposited files on disk, under generated names, flushed before the deposit is committed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from portal.deposits.storage.store import checked_key, new_key


class FileStore:
    """A folder (local, or shared by every instance over NFS or similar)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        checked_key(key)
        return self.root / key[:2] / key

    def save(self, stream: BinaryIO) -> str:
        """Write the stream to disk and fsync it (file and folder); returns the new key."""
        key = new_key()
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        stream.seek(0)
        with open(partial, "wb") as handle:
            shutil.copyfileobj(stream, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        stream.seek(0)
        return key

    def open(self, key: str) -> BinaryIO:
        return open(self.path_for(key), "rb")

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self.path_for(key)
        if not path.is_file():
            raise FileNotFoundError(2, "No such stored file", str(path))
        yield path  # already on this machine: no copy
