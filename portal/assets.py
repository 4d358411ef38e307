"""Static files under content-hashed names, compressed (gzip and brotli) and cached for a year.

At start-up each file of static/ is copied once to build/static/ as `name.<hash>.ext` with its
`.gz` and `.br` beside it (a file already there is not made again, so a restart costs a hash of
each file), and WhiteNoise serves them with `Cache-Control: max-age=31536000, immutable`: a
browser never asks for them again, and a changed file gets a new name. `url_for('static', ...)`
goes through one mapping (the manifest) from a file's name to its hashed name. Nothing built is
committed; static/vendor/ comes from npm as before.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import brotli
from flask import Flask
from whitenoise import WhiteNoise

from portal.config import PROJECT_ROOT

YEAR = 365 * 24 * 3600
BUILT = PROJECT_ROOT / "build" / "static"  # gitignored (/build/)
COMPRESSED = {".css", ".js", ".svg", ".ico", ".json", ".txt", ".map"}


def hashed_name(relative: Path, content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()[:12]
    return relative.with_name(f"{relative.stem}.{digest}{relative.suffix}")


def _write_once(path: Path, content: bytes) -> None:
    """Written whole or not at all: several workers may start at the same moment."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    os.replace(temporary, path)


def build(source: Path, target: Path) -> dict[str, str]:
    """Every file of `source` under its hashed name in `target`, compressed beside it when
    that helps; the mapping from each name (as url_for takes it) to its hashed name."""
    manifest: dict[str, str] = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        content = path.read_bytes()
        built = hashed_name(relative, content)
        manifest[relative.as_posix()] = built.as_posix()
        destination = target / built
        _write_once(destination, content)
        if path.suffix.lower() in COMPRESSED:
            _write_once(destination.with_name(destination.name + ".gz"), _gzip(content))
            _write_once(destination.with_name(destination.name + ".br"), brotli.compress(content))
    return manifest


def _gzip(content: bytes) -> bytes:
    return gzip.compress(content, compresslevel=9, mtime=0)


def _security_headers(headers: Any, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask, target: Path = BUILT) -> None:
    """Serve the app's static files hashed from `target`; url_for('static', filename=...)
    names them."""
    manifest = build(Path(str(app.static_folder)), target)

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and (found := manifest.get(values.get("filename", ""))):
            values["filename"] = found

    app.extensions["static_manifest"] = manifest
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(target),
        prefix=app.static_url_path or "/static",
        max_age=YEAR,
        # Only hashed names are in `target`: each is immutable.
        immutable_file_test=lambda _path, _url: True,
        add_headers_function=_security_headers,
    )
