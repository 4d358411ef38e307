"""Deposited files on disk, under generated names, flushed before the deposit is committed."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from flask import current_app


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (uuid hex); refuse anything that could walk paths
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def save(self, stream: BinaryIO) -> str:
        """Write the stream to disk and fsync it (file and folder); returns the new key."""
        key = uuid.uuid4().hex
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


def file_store() -> FileStore:
    """The store the running app is configured with (PORTAL_STORAGE_DIR)."""
    return FileStore(current_app.config["STORAGE_DIR"])
