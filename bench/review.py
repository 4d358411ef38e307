"""Staff review at 100,000 deposits over five assigned organizations: time and queries per page.

Run with `make bench` (SQLite in a temporary folder) or with
PORTAL_BENCH_DATABASE_URL pointing at an empty PostgreSQL database. Nothing is asserted.
"""

from __future__ import annotations

import os

from bench.seeding import PASSWORD, benchmark, insert_deposits, link_after
from portal.extensions import db
from portal.models import Organization, Role, StaffAssignment, User
from portal.passwords import hash_password

DEPOSITS = int(os.environ.get("PORTAL_BENCH_DEPOSITS", "100000"))
ORGANIZATIONS = 5
ROUNDS = 10


def seed(app) -> str:
    staff = User(email="staff@example.test", password_hash=hash_password(PASSWORD), role=Role.STAFF)
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


def main() -> None:
    with benchmark(seed, rounds=ROUNDS) as timer:
        for label, url in [
            ("first page, newest", "/review/"),
            ("status filter", "/review/?status=refused"),
            ("one organization + kind", "/review/?organization=2&kind=sales"),
            ("text search (counterparty)", "/review/?q=supplier%2042"),
            ("date range", "/review/?date_from=2026-01-01&date_to=2026-01-31"),
            ("sorted by file name", "/review/?sort=file_name"),
            ("dashboard", "/review/dashboard"),
        ]:
            timer.report(label, url)
        url = "/review/"
        for _ in range(200):
            url = link_after(timer.page(url), "after=", "Next page")
        timer.report("page 200 (keyset cursor)", url)


if __name__ == "__main__":
    main()
