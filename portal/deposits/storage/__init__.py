"""Where deposited files are kept: a folder (PORTAL_STORAGE_DIR, the default) or an S3-compatible
bucket (PORTAL_STORAGE_URL=s3://bucket/prefix), behind one Store interface."""

from __future__ import annotations

from flask import current_app

from portal.deposits.storage.disk import FileStore
from portal.deposits.storage.settings import S3Settings
from portal.deposits.storage.store import StorageUnavailable, Store

__all__ = ["FileStore", "S3Settings", "StorageUnavailable", "Store", "file_store"]


def file_store() -> Store:
    """The store the running app is configured with: the bucket of STORAGE_URL when set (one
    client per app, made on first use), else the folder STORAGE_DIR."""
    config = current_app.config
    if not config.get("STORAGE_URL"):
        return FileStore(config["STORAGE_DIR"])
    settings = S3Settings.from_config(config)
    made = current_app.extensions.get("object_store")
    if made is None or made[0] != settings:
        # boto3 takes a quarter of a second to import: only deployments on S3 pay for it.
        from portal.deposits.storage import s3

        made = (settings, s3.connect(settings))
        current_app.extensions["object_store"] = made
    return made[1]
