"""`make bench`: the portal's pages beside a bare Flask page of the same size, in one run.

Seeds a member's organization of 100,000 deposits and a staff member assigned to 200
organizations (10,000 deposits each on PostgreSQL, 500 on SQLite), with entries JSON, then serves
the portal and the anchor (bench/anchor.py) with the same gunicorn settings and times each page
against the anchor, request after request interleaved, so both see the same machine. Prints one
table: page, portal, anchor (median milliseconds per request, database included), ratio, goal,
met. SQLite in a temporary folder by default; PORTAL_BENCH_DATABASE_URL names an empty
PostgreSQL database; PORTAL_BENCH_SCALE (e.g. 0.05) shrinks every count for a quick run.
Nothing is asserted: the goals are printed beside the ratios.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from bench import webhooks
from bench.seeding import (
    PASSWORD,
    analyse,
    bench_database_url,
    build_app,
    insert_deposits,
    member_with_organization,
)
from bench.servers import Client, portal_and_anchor
from portal.extensions import db
from portal.models import Organization, Role, StaffAssignment, User
from portal.passwords import hash_password

SCALE = float(os.environ.get("PORTAL_BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("PORTAL_BENCH_ROUNDS", "30"))
REVIEW_ORGANIZATIONS = 200
WEBHOOK_PATH = "/webhooks/one-connect"
FEW_ORGANIZATIONS = 20


@dataclass(frozen=True)
class Scale:
    history: int
    per_organization: int
    events: int  # sent deposits, each decided by one signed webhook

    @classmethod
    def for_database(cls, postgresql: bool) -> Scale:
        per_organization = 10_000 if postgresql else 500
        return cls(
            max(int(100_000 * SCALE), 600),
            max(int(per_organization * SCALE), 20),
            max(int(2_000 * SCALE), 200),
        )


def _staff(email: str) -> User:
    staff = User(email=email, password_hash=hash_password(PASSWORD), role=Role.STAFF)
    db.session.add(staff)
    return staff


def seed(app: Flask, scale: Scale) -> None:
    _member, history = member_with_organization(app)
    insert_deposits(scale.history, lambda n: {"organization_id": history.id})
    box = app.extensions["secret_box"]
    organizations = [
        Organization(
            name=f"Client {number:03d} SAS",
            integration_id=f"00000000-0000-4000-9000-{number:012d}",
            integration_secret_encrypted=box.encrypt("secret"),
        )
        for number in range(REVIEW_ORGANIZATIONS)
    ]
    db.session.add_all(organizations)
    most, few = _staff("staff@example.test"), _staff("few@example.test")
    db.session.flush()
    for index, organization in enumerate(organizations):
        db.session.add(StaffAssignment(user_id=most.id, organization_id=organization.id))
        if index % (REVIEW_ORGANIZATIONS // FEW_ORGANIZATIONS) == 0:
            db.session.add(StaffAssignment(user_id=few.id, organization_id=organization.id))
    db.session.commit()
    ids = [organization.id for organization in organizations]
    insert_deposits(
        scale.per_organization * REVIEW_ORGANIZATIONS,
        lambda n: {"organization_id": ids[n % REVIEW_ORGANIZATIONS]},
        first=scale.history,
    )
    analyse()


@dataclass(frozen=True)
class Row:
    page: str
    portal_ms: float
    anchor_ms: float
    goal: float

    @property
    def ratio(self) -> float:
        return self.portal_ms / self.anchor_ms

    def line(self) -> str:
        met = "yes" if self.ratio <= self.goal else "NO"
        return (
            f"| {self.page} | {self.portal_ms:.2f} ms | {self.anchor_ms:.2f} ms "
            f"| {self.ratio:.1f}x | ≤ {self.goal:g}x | {met} |"
        )


def compare(label: str, portal: Client, url: str, anchor: Client, goal: float) -> Row:
    """The median of ROUNDS requests to `url`, each followed by one to the anchor page of the
    same size."""
    status, body, _ = portal.request("GET", url)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    anchor_url = f"/page/{len(body)}"
    for _ in range(3):  # warm both (worker imports, caches)
        portal.request("GET", url)
        anchor.request("GET", anchor_url)
    portal_times, anchor_times = [], []
    for _ in range(ROUNDS):
        portal_times.append(portal.request("GET", url)[2])
        anchor_times.append(anchor.request("GET", anchor_url)[2])
    return Row(
        label,
        statistics.median(portal_times) * 1000,
        statistics.median(anchor_times) * 1000,
        goal,
    )


def deep(client: Client, url: str, marker: str, page: int) -> tuple[str, int]:
    """The address of page `page`, following the `marker` link (the next page) from `url`, or
    of the last page when there are fewer (a small scale); and that page's number."""
    for reached in range(1, page):
        body = client.request("GET", url)[1].decode()
        later = next_link(body, marker)
        if later is None:
            return url, reached
        url = later
    return url, page


def next_link(page: str, marker: str) -> str | None:
    for piece in page.split('href="')[1:]:
        link = piece.split('"')[0].replace("&amp;", "&")
        if marker in link:
            return link
    return None


def review_rows(staff: Client, anchor: Client, who: str) -> list[Row]:
    deeper, reached = deep(staff, "/review/", "after=", 100)
    pages: list[tuple[str, str, float]] = [
        ("newest", "/review/", 3),
        (f"page {reached}", deeper, 3),
        ("oldest first", "/review/?sort=oldest", 3),
        ("by file name", "/review/?sort=file_name", 3),
        ("by reference", "/review/?sort=reference", 3),
        ("status filter", "/review/?status=refused", 3),
        ("text search, many", "/review/?q=fournisseur+42", 5),
        ("text search, one", "/review/?q=invoice-4242", 5),
    ]
    return [
        compare(f"review ({who}), {label}", staff, url, anchor, goal) for label, url, goal in pages
    ]


def history_rows(member: Client, anchor: Client) -> list[Row]:
    base = "/organizations/1/deposits"
    deeper, reached = deep(member, base, "before=", 500)
    return [
        compare("history, page 1", member, base, anchor, 3),
        compare(f"history, page {reached}", member, deeper, anchor, 3),
    ]


def ingest_row(portal: Client, anchor: Client, deliveries: list[webhooks.Delivery]) -> Row:
    """Signed deliveries, several at a time, against the anchor parsing the same bodies; the
    first few one by one (each worker fetches the sandbox's keys once)."""
    warm, timed = deliveries[: webhooks.AT_ONCE], deliveries[webhooks.AT_ONCE :]
    for delivery in warm:
        webhooks.seconds_per_event(portal.port, WEBHOOK_PATH, [delivery], signed=True)
    anchor_before = webhooks.seconds_per_event(anchor.port, "/json", timed, signed=False)
    portal_seconds = webhooks.seconds_per_event(portal.port, WEBHOOK_PATH, timed, signed=True)
    anchor_after = webhooks.seconds_per_event(anchor.port, "/json", timed, signed=False)
    return Row(
        f"signed webhook ingest, {webhooks.AT_ONCE} at a time (per event; ≥ 50 % of the "
        "anchor's throughput)",
        portal_seconds * 1000,
        (anchor_before + anchor_after) / 2 * 1000,
        2,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, webhooks.sandbox() as (state, jwks_url):
        instance = Path(folder)
        url = bench_database_url(instance)
        app = build_app(instance, url)
        with app.app_context():
            upgrade()
            scale = Scale.for_database(db.engine.dialect.name == "postgresql")
            started = time.perf_counter()
            seed(app, scale)
            total = scale.history + scale.per_organization * REVIEW_ORGANIZATIONS
            deliveries = webhooks.seed(state, app.extensions["secret_box"], scale.events, total)
            print(
                f"seeded {total + scale.events:,} deposits ({db.engine.dialect.name}) in "
                f"{time.perf_counter() - started:.0f} s: history {scale.history:,}, review "
                f"{REVIEW_ORGANIZATIONS} x {scale.per_organization:,}, {scale.events:,} "
                f"awaiting a webhook; {ROUNDS} rounds"
            )
            db.session.remove()
            db.engine.dispose()
        with portal_and_anchor(instance, url, jwks_url) as (portal, anchor):
            member, most, few = portal, Client(portal.port), Client(portal.port)
            member.sign_in("bench@example.test", PASSWORD)
            most.sign_in("staff@example.test", PASSWORD)
            few.sign_in("few@example.test", PASSWORD)
            rows = history_rows(member, anchor)
            rows += review_rows(most, anchor, f"{REVIEW_ORGANIZATIONS} organizations")
            rows += review_rows(few, anchor, f"{FEW_ORGANIZATIONS} of them")
            rows.append(ingest_row(portal, anchor, deliveries))
        with app.app_context():
            checked = webhooks.accounted_for(deliveries)
            db.session.remove()
            db.engine.dispose()
        print("| page | portal | anchor | ratio | goal | met |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            print(row.line())
        print(f"webhooks: {checked}")


if __name__ == "__main__":
    main()
