"""Import history at 100,000 deposits in one organization: time per page, queries per page.

Run with `make bench` (SQLite in a temporary folder) or with PORTAL_BENCH_DATABASE_URL pointing
at an empty PostgreSQL database. Prints one line per scenario; nothing is asserted.
"""

from __future__ import annotations

import os

from flask import Flask

from bench.seeding import PASSWORD, benchmark, insert_deposits, link_after
from portal.extensions import db
from portal.models import Membership, Organization, User
from portal.passwords import hash_password

DEPOSITS = int(os.environ.get("PORTAL_BENCH_DEPOSITS", "100000"))
BASE = "/organizations/1/deposits"
ROUNDS = 20


def seed(app: Flask) -> str:
    user = User(email="bench@example.test", password_hash=hash_password(PASSWORD))
    organization = Organization(
        name="Bench SARL",
        integration_id="00000000-0000-4000-8000-000000000001",
        integration_secret_encrypted=app.extensions["secret_box"].encrypt("secret"),
    )
    organization.memberships.append(Membership(user=user))
    db.session.add(organization)
    db.session.commit()
    assert organization.id == 1  # a fresh database: BASE names it
    insert_deposits(
        DEPOSITS,
        lambda n: {"organization_id": organization.id, "counterparty_name": f"Supplier {n % 500}"},
    )
    return user.email


def main() -> None:
    with benchmark(seed, rounds=ROUNDS) as timer:
        timer.report("first page", BASE)
        url = BASE
        for _ in range(500):
            url = link_after(timer.page(url), "before=")
        timer.report("page 500 (keyset cursor)", url)
        timer.report("filtered by status", f"{BASE}?status=refused")
        timer.report("search, one match", f"{BASE}?q=invoice-99917")
        timer.report("search, many matches", f"{BASE}?q=ref-1")
        timer.report("search, no match", f"{BASE}?q=nowhere")
        timer.report(
            "filtered, deep cursor", f"{BASE}?status=duplicate&before=" + url.split("before=")[1]
        )


if __name__ == "__main__":
    main()
