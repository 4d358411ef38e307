"""Import history at 100,000 deposits in one organization: time per page, queries per page.

Run with `make bench` (SQLite in a temporary folder) or with PORTAL_BENCH_DATABASE_URL pointing
at an empty PostgreSQL database. Prints one line per scenario; nothing is asserted.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event

from bench.seeding import build_app, insert_deposits
from portal.extensions import db
from portal.models import Membership, Organization, User
from portal.passwords import hash_password

DEPOSITS = int(os.environ.get("PORTAL_BENCH_DEPOSITS", "100000"))
ROUNDS = 20


def seed(app) -> tuple[int, str]:
    user = User(email="bench@example.test", password_hash=hash_password("bench password"))
    organization = Organization(
        name="Bench SARL",
        integration_id="00000000-0000-4000-8000-000000000001",
        integration_secret_encrypted=app.extensions["secret_box"].encrypt("secret"),
    )
    organization.memberships.append(Membership(user=user))
    db.session.add(organization)
    db.session.commit()
    insert_deposits(DEPOSITS, lambda n: {"organization_id": organization.id})
    return organization.id, user.email


def measure(client, url: str, counter: list[int]) -> tuple[float, int, str]:
    timings = []
    for _ in range(ROUNDS):
        counter[0] = 0
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings) * 1000, counter[0], response.get_data(as_text=True)


def next_page(page: str) -> str:
    marker = 'href="'
    for piece in page.split(marker)[1:]:
        link = piece.split('"')[0].replace("&amp;", "&")
        if "before=" in link:
            return link
    raise RuntimeError("no older page")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            organization_id, email = seed(app)
            print(
                f"seeded {DEPOSITS} deposits in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})"
            )
            counter = [0]
            event.listen(
                db.engine,
                "before_cursor_execute",
                lambda *args: counter.__setitem__(0, counter[0] + 1),
            )
            client = app.test_client()
            client.post("/login", data={"email": email, "password": "bench password"})
            base = f"/organizations/{organization_id}/deposits"

            ms, queries, _ = measure(client, base, counter)
            print(f"first page                 {ms:7.2f} ms  {queries} queries")
            url = base
            for _ in range(500):
                url = next_page(client.get(url).get_data(as_text=True))
            ms, queries, _ = measure(client, url, counter)
            print(f"page 500 (keyset cursor)   {ms:7.2f} ms  {queries} queries")
            ms, queries, _ = measure(client, f"{base}?status=refused", counter)
            print(f"filtered by status         {ms:7.2f} ms  {queries} queries")
            ms, queries, _ = measure(
                client, f"{base}?status=duplicate&before=" + url.split("before=")[1], counter
            )
            print(f"filtered, deep cursor      {ms:7.2f} ms  {queries} queries")
            db.engine.dispose()


if __name__ == "__main__":
    main()
