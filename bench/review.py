"""Staff review at 100,000 deposits over five assigned organizations: time and queries per page.

Run with `make bench` (SQLite in a temporary folder) or with
PORTAL_BENCH_DATABASE_URL pointing at an empty PostgreSQL database. Nothing is asserted.
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
from portal.models import Organization, Role, StaffAssignment, User
from portal.passwords import hash_password

DEPOSITS = int(os.environ.get("PORTAL_BENCH_DEPOSITS", "100000"))
ORGANIZATIONS = 5
ROUNDS = 10


def seed(app) -> str:
    staff = User(
        email="staff@example.test", password_hash=hash_password("bench password"), role=Role.STAFF
    )
    db.session.add(staff)
    organizations = []
    for number in range(ORGANIZATIONS):
        organization = Organization(
            name=f"Bench {number} SARL",
            integration_id=f"00000000-0000-4000-8000-{number:012d}",
            integration_secret_encrypted=app.extensions["secret_box"].encrypt("secret"),
        )
        db.session.add(organization)
        organizations.append(organization)
    db.session.flush()
    for organization in organizations:
        db.session.add(StaffAssignment(user_id=staff.id, organization_id=organization.id))
    db.session.commit()
    insert_deposits(
        DEPOSITS,
        lambda n: {
            "organization_id": organizations[n % ORGANIZATIONS].id,
            "kind": "purchase" if n % 3 else "sales",
            "counterparty": {"name": f"Supplier {n % 500}"},
        },
    )
    return staff.email


def measure(client, url: str, counter: list[int]) -> tuple[float, int, str]:
    timings = []
    for _ in range(ROUNDS):
        counter[0] = 0
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data(as_text=True)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings) * 1000, counter[0], body


def next_page(page: str) -> str:
    for piece in page.split('href="')[1:]:
        link = piece.split('"')[0].replace("&amp;", "&")
        if "after=" in link and "Next page" in piece.split("</a>")[0]:
            return link
    raise RuntimeError("no next page")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            email = seed(app)
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
            scenarios = [
                ("first page, newest", "/review/"),
                ("status filter", "/review/?status=refused"),
                ("one organization + kind", "/review/?organization=2&kind=sales"),
                ("text search (counterparty)", "/review/?q=supplier%2042"),
                ("date range", "/review/?date_from=2026-01-01&date_to=2026-01-31"),
                ("sorted by file name", "/review/?sort=file_name"),
                ("dashboard", "/review/dashboard"),
            ]
            for label, url in scenarios:
                ms, queries, _ = measure(client, url, counter)
                print(f"{label:30} {ms:8.2f} ms  {queries} queries")
            url = "/review/"
            for _ in range(200):
                url = next_page(client.get(url).get_data(as_text=True))
            ms, queries, _ = measure(client, url, counter)
            print(f"{'page 200 (keyset cursor)':30} {ms:8.2f} ms  {queries} queries")
            db.engine.dispose()


if __name__ == "__main__":
    main()
