"""Import history at 100,000 deposits in one organization: time per page, queries per page.

Run with `make bench` (SQLite in a temporary folder) or with PORTAL_BENCH_DATABASE_URL pointing
at an empty PostgreSQL database. Prints one line per scenario; nothing is asserted.
"""

from __future__ import annotations

import os

from flask import Flask

from bench.seeding import benchmark, insert_deposits, link_after, member_with_organization

DEPOSITS = int(os.environ.get("PORTAL_BENCH_DEPOSITS", "100000"))
BASE = "/organizations/1/deposits"
ROUNDS = 20


def seed(app: Flask) -> str:
    user, organization = member_with_organization(app)
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
