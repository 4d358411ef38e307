"""Every route, for every role and own or foreign organization, generated from the URL map.

A route missing from EXPECTED fails the test: a new page cannot ship without deciding who may
see it. Ids in URLs always name organization A's objects: "own" for its member and its assigned
staff, "foreign" for organization B's member and B's staff. No body may name the other side.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.mail import unsubscribe
from portal.models import (
    Counterparty,
    DepositStatus,
    MailKind,
    PasswordReset,
    ProcessingOutcome,
    Role,
    WebhookEvent,
    utcnow,
)
from tests import factories
from tests.support import invoices

ROLES = ("anonymous", "member_own", "member_foreign", "staff_assigned", "staff_unassigned", "admin")

# One column per role, in the order of ROLES.
#   ok: 200 · go: a redirect elsewhere than the login page · act: the action was allowed
#   (done, or its form re-shown with errors) · L: sent to log in · 403 / 404 / 401: refused
SCOPED_READ = "L ok 404 ok 404 ok"
MEMBER_ONLY = "L {m} 404 403 404 403"
REVIEW_LIST = "L 404 404 ok ok ok"
REVIEW_OBJECT = "L 404 404 ok 404 ok"
ADMIN_PAGE = "L 404 404 404 404 ok"
ADMIN_ACTION = "L 404 404 404 404 act"

EXPECTED: dict[tuple[str, str], str] = {
    ("main.home", "GET"): "L go go go go go",
    ("main.healthz", "GET"): "ok ok ok ok ok ok",
    ("readiness.readyz", "GET"): "ok ok ok ok ok ok",
    # Published only with PORTAL_METRICS_TOKEN (tests/app/test_observability.py), to no role.
    ("observability.metrics", "GET"): "404 404 404 404 404 404",
    # Browsers ask for /favicon.ico whoever is signed in: it answers with the static SVG.
    ("main.favicon", "GET"): "ok ok ok ok ok ok",
    # The language switch answers everyone with a way back to their page.
    ("main.language", "POST"): "go go go go go go",
    ("auth.login", "GET"): "ok go go go go go",
    ("auth.login_submit", "POST"): "act act act act act act",
    ("auth.register", "GET"): "ok go go go go go",
    # The code step after a right password: without one, back to the password step.
    ("auth.second_step", "GET"): "L go go go go go",
    ("auth.second_step_submit", "POST"): "L act act act act act",
    ("auth.register_submit", "POST"): "act act act act act act",
    # Signing out ends on the login page whoever asks.
    ("auth.logout", "POST"): "L L L L L L",
    # A forgotten password: anyone may ask, and a link works for whoever holds it.
    ("auth.forgot_password", "GET"): "ok ok ok ok ok ok",
    ("auth.forgot_password_submit", "POST"): "act act act act act act",
    ("auth.reset_password", "GET"): "ok ok ok ok ok ok",
    ("auth.reset_password_submit", "POST"): "act act act act act act",
    # Each account's own settings; Sign out everywhere ends on the login page.
    ("settings.index", "GET"): "L ok ok ok ok ok",
    ("settings.save", "POST"): "L act act act act act",
    ("settings.end_sessions", "POST"): "L L L L L L",
    # Each account's own two-factor sign-in.
    ("settings.two_factor", "GET"): "L ok ok ok ok ok",
    ("settings.enable_two_factor", "POST"): "L act act act act act",
    ("settings.renew_recovery_codes", "POST"): "L act act act act act",
    ("settings.turn_off_two_factor", "POST"): "L act act act act act",
    # An e-mail's unsubscribe link: the signed token is the right, no session needed.
    ("settings.unsubscribe", "GET"): "ok ok ok ok ok ok",
    ("settings.unsubscribe_now", "POST"): "ok ok ok ok ok ok",
    ("webhooks.one_connect", "POST"): "401 401 401 401 401 401",
    ("organizations.index", "GET"): "L ok ok ok ok ok",
    ("organizations.new", "GET"): "L ok ok 403 403 403",
    ("organizations.create", "POST"): "L act act 403 403 403",
    ("organizations.switch", "POST"): "L act 404 404 404 404",
    ("organizations.members", "GET"): SCOPED_READ,
    ("organizations.add_member", "POST"): MEMBER_ONLY.format(m="act"),
    ("organizations.confirm_disconnect", "GET"): MEMBER_ONLY.format(m="ok"),
    ("organizations.disconnect", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.index", "GET"): SCOPED_READ,
    ("deposits.new", "GET"): MEMBER_ONLY.format(m="ok"),
    ("deposits.create", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.add_line", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.remove_line", "POST"): "L act act act act act",
    # The entries editor's helpers: fragments for the deposit form, members only.
    ("deposits.check_field", "GET"): MEMBER_ONLY.format(m="act"),
    ("deposits.counterparty_suggestions", "GET"): MEMBER_ONLY.format(m="act"),
    ("deposits.counterparty_fill", "GET"): MEMBER_ONLY.format(m="act"),
    ("deposits.duplicate_line", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.line_totals", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.vat_defaults", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.book_invoice_lines", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.paste_lines", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.preview", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.detail", "GET"): SCOPED_READ,
    ("deposits.row", "GET"): SCOPED_READ,
    ("deposits.download", "GET"): SCOPED_READ,
    # The invoice beside its data, on the deposit's page and in the review: whoever sees the
    # deposit. The sandboxed frame keeps our origin, so its page images carry the session.
    ("deposits.invoice", "GET"): SCOPED_READ,
    ("deposits.invoice_pages", "GET"): SCOPED_READ,
    ("deposits.invoice_page", "GET"): SCOPED_READ,
    ("deposits.retry", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.receipt", "GET"): SCOPED_READ,
    ("deposits.correct", "GET"): MEMBER_ONLY.format(m="ok"),
    ("deposits.stage_one", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.join_pages", "POST"): MEMBER_ONLY.format(m="act"),
    ("deposits.read_invoice", "POST"): MEMBER_ONLY.format(m="act"),
    ("review.index", "GET"): REVIEW_LIST,
    ("review.export", "GET"): REVIEW_LIST,
    ("review.dashboard", "GET"): REVIEW_LIST,
    ("review.detail", "GET"): REVIEW_OBJECT,
    ("admin.index", "GET"): ADMIN_PAGE,
    ("admin.send_waiting_now", "POST"): ADMIN_ACTION,
    ("admin.users", "GET"): ADMIN_PAGE,
    ("admin.create_user", "POST"): ADMIN_ACTION,
    ("admin.user", "GET"): ADMIN_PAGE,
    ("admin.change_role", "POST"): ADMIN_ACTION,
    ("admin.confirm_deactivate", "GET"): ADMIN_PAGE,
    ("admin.deactivate", "POST"): ADMIN_ACTION,
    ("admin.reactivate", "POST"): ADMIN_ACTION,
    ("admin.reset_password", "POST"): ADMIN_ACTION,
    ("admin.reset_two_factor", "POST"): ADMIN_ACTION,
    ("admin.organizations_index", "GET"): ADMIN_PAGE,
    ("admin.organization", "GET"): ADMIN_PAGE,
    ("admin.refresh", "POST"): ADMIN_ACTION,
    ("admin.confirm_revoke", "GET"): ADMIN_PAGE,
    ("admin.revoke", "POST"): ADMIN_ACTION,
    ("admin.replace_secret", "POST"): ADMIN_ACTION,
    ("admin.staff", "GET"): ADMIN_PAGE,
    ("admin.assign", "POST"): ADMIN_ACTION,
    ("admin.unassign", "POST"): ADMIN_ACTION,
    ("admin.webhooks", "GET"): ADMIN_PAGE,
    ("admin.webhook", "GET"): ADMIN_PAGE,
    ("admin.reprocess", "POST"): ADMIN_ACTION,
    ("admin.audit_log", "GET"): ADMIN_PAGE,
    ("admin.mail", "GET"): ADMIN_PAGE,
}


def routes(app: Flask) -> list[tuple[str, str, Any]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            found.append((rule.endpoint, method, rule))
    return found


def test_every_route_has_an_expectation(app: Flask) -> None:
    listed = {(endpoint, method) for endpoint, method, _ in routes(app)}
    assert listed - EXPECTED.keys() == set(), "routes without an access decision"
    assert EXPECTED.keys() - listed == set(), "decisions for routes that no longer exist"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    member_own = factories.user("owner-a@example.test")
    member_foreign = factories.user("owner-b@example.test")
    staff_assigned = factories.user("staff-a@example.test", role=Role.STAFF)
    staff_unassigned = factories.user("staff-b@example.test", role=Role.STAFF)
    admin = factories.user("admin@example.test", role=Role.ADMIN)
    target = factories.user("target@example.test")
    org_a = factories.organization(member_own, name="Alpha Boulangerie")
    org_b = factories.organization(member_foreign, name="Beta Plomberie")
    factories.assign(staff_assigned, org_a)
    factories.assign(staff_unassigned, org_b)
    deposit_a = factories.deposit(
        org_a,
        file_name="alpha-secret-invoice.pdf",
        external_reference="ALPHA-REF-1",
        counterparty={"name": "Alpha Supplier"},
        content=invoices.pdf(),  # a real PDF, so its pages can be drawn
    )
    refused_a = factories.deposit(
        org_a,
        status=DepositStatus.REFUSED,
        file_name="alpha-secret-refused.pdf",
        external_reference="ALPHA-REF-2",
        content=invoices.pdf(),
    )
    deposit_b = factories.deposit(
        org_b,
        file_name="beta-secret-invoice.pdf",
        external_reference="BETA-REF-1",
        counterparty={"name": "Beta Supplier"},
    )
    event = WebhookEvent(
        event_id="evt-matrix",
        type="com.example.unknown",
        event_time=utcnow(),
        body='{"data": {}}',
        verification="test key",
        outcome=ProcessingOutcome.PENDING,
    )
    db.session.add(event)
    counterparty = Counterparty(organization_id=org_a.id, name="Alpha Supplier")
    db.session.add(counterparty)
    reset = PasswordReset(
        user_id=target.id,
        token_sha256=hashlib.sha256(b"matrix-reset-token").hexdigest(),
        expires_at=utcnow() + timedelta(hours=1),
    )
    db.session.add(reset)
    db.session.commit()
    reset_link = {"token": "matrix-reset-token"}
    unsubscribe_link = {"token": unsubscribe.token(target.id, MailKind.REFUSAL)}
    a_words = ("Alpha Boulangerie", "alpha-secret-invoice", "ALPHA-REF-1", "Alpha Supplier")
    b_words = ("Beta Plomberie", "beta-secret-invoice", "BETA-REF-1", "Beta Supplier")
    return {
        "users": {
            "anonymous": None,
            "member_own": member_own,
            "member_foreign": member_foreign,
            "staff_assigned": staff_assigned,
            "staff_unassigned": staff_unassigned,
            "admin": admin,
        },
        "args": {
            "organization_id": org_a.id,
            "deposit_id": deposit_a.id,
            "user_id": target.id,
            "event_id": event.id,
            "counterparty_id": counterparty.id,
        },
        "overrides": {
            "admin.unassign": {"user_id": staff_assigned.id},
            "deposits.invoice_page": {"number": 1},
            "deposits.correct": {"deposit_id": refused_a.id},
            "auth.reset_password": reset_link,
            "auth.reset_password_submit": reset_link,
            "settings.unsubscribe": unsubscribe_link,
            "settings.unsubscribe_now": unsubscribe_link,
        },
        "post_data": {"organizations.switch": {"organization_id": org_a.id}},
        "query": {"deposits.check_field": {"field": "counterparty-name"}},
        "hidden": {
            "anonymous": a_words + b_words,
            "member_own": b_words,
            "member_foreign": a_words,
            "staff_assigned": b_words,
            "staff_unassigned": a_words,
            "admin": (),
        },
        "deposit_b": deposit_b,
    }


def _check(outcome: str, response: Any, label: str) -> None:
    status = response.status_code
    location = response.headers.get("Location", "")
    if outcome == "ok":
        assert status == 200, label
    elif outcome == "go":
        assert status in (302, 303) and "/login" not in location, label
    elif outcome == "act":
        assert status in (200, 302, 303, 400, 422), label
        assert "/login" not in location, label
    elif outcome == "L":
        assert status in (302, 303) and "/login" in location, label
    else:
        assert status == int(outcome), label


def test_access_matrix(app: Flask, client: FlaskClient, login_as, world: dict[str, Any]) -> None:
    table = routes(app)
    for position, role in enumerate(ROLES):  # admin last: its actions change the data
        user = world["users"][role]
        if user is not None:
            login_as(user)
        else:
            client.post("/logout")
        for endpoint, method, rule in table:
            values = {**world["args"], **world["overrides"].get(endpoint, {})}
            url = rule.build({name: values[name] for name in rule.arguments})[1]
            data = world["post_data"].get(endpoint, {})
            query = world["query"].get(endpoint)
            with client.open(url, method=method, data=data, query_string=query) as response:
                body = response.get_data().decode(errors="replace")  # PDFs, PNGs too
            expected = EXPECTED[(endpoint, method)].split()[position]
            label = f"{role} {method} {url} ({endpoint}) -> {response.status_code}"
            _check(expected, response, label)
            for word in world["hidden"][role]:
                assert word not in body, f"{label} shows {word!r}"
            if endpoint in ("auth.logout", "settings.end_sessions") and user is not None:
                login_as(user)
