"""Twenty 1 MB invoices dropped at once, against one deposited alone: time per file, and the
Python memory the requests allocate at their peak (files are streamed to disk, never held whole).

Each file goes up on its own request as the browser sends it (POST …/drafts), then one Send
deposits them all; a single deposit is the same with one file. The sender is off, so what is
timed is the portal's own work (checks, storage, rows), not OneConnect. Nothing is asserted.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import time
import tracemalloc

import pikepdf
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bench.seeding import benchmark, member_with_organization
from portal.extensions import db
from portal.models import Deposit

FILES = 20
FILE_BYTES = 1_000_000
ROUNDS = 5
_TOKEN = re.compile(r'name="draft" value="([^"]+)"')


def seed(app: Flask) -> str:
    return member_with_organization(app)[0].email


def invoice(size: int) -> bytes:
    """A real PDF of about `size` bytes (an incompressible stream stands in for a scan)."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(595, 842))
    document.Root.Scan = document.make_stream(os.urandom(size - 600))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def stage(client: FlaskClient, content: bytes, name: str) -> str:
    response = client.post(
        "/organizations/1/drafts",
        data={"invoice_file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.status_code
    return _TOKEN.search(response.get_data(as_text=True)).group(1)


def deposit(client: FlaskClient, contents: list[bytes]) -> float:
    """Seconds to stage every file and send the form that names them."""
    started = time.perf_counter()
    tokens = [stage(client, content, f"facture-{n}.pdf") for n, content in enumerate(contents)]
    response = client.post(
        "/organizations/1/deposits",
        data={"kind": "purchase", "user_email": "bench@example.test", "draft": tokens},
    )
    assert response.status_code in (302, 303), response.status_code
    return time.perf_counter() - started


def main() -> None:
    with benchmark(seed, rounds=ROUNDS) as timer:
        client = timer.client
        files = [invoice(FILE_BYTES) for _ in range(FILES)]
        single = statistics.median(deposit(client, files[:1]) for _ in range(ROUNDS))
        tracemalloc.start()
        batch = statistics.median(deposit(client, files) for _ in range(ROUNDS))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        made = db.session.scalar(select(func.count(Deposit.id)))
        assert made == ROUNDS * (1 + FILES), made
        per_file = batch / FILES
        print(f"{'one file alone':30} {single * 1000:8.2f} ms")
        print(
            f"{f'{FILES} files at once, per file':30} {per_file * 1000:8.2f} ms"
            f"  ({per_file / single:.2f}x one file alone)"
        )
        print(
            f"{'peak Python memory':30} {peak / 1e6:8.2f} MB"
            f"  ({peak / FILE_BYTES:.1f}x one file; {made} deposits made)"
        )


if __name__ == "__main__":
    main()
