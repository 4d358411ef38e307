"""The admin console: each action changes what it says, and leaves its line in the audit log."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal import audit
from portal.admin import words
from portal.auth.services import MAX_FAILURES
from portal.extensions import db
from portal.models import (
    AuditEvent,
    OrganizationStatus,
    ProcessingOutcome,
    Role,
    StaffAssignment,
    User,
    WebhookEvent,
    utcnow,
)
from portal.passwords import verify_password
from tests import factories

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture(autouse=True)
def english_pages(client: FlaskClient) -> None:
    """These tests read the English pages unless they ask for French (FRENCH headers)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def english_client(app: Flask) -> FlaskClient:
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other


def in_french(app: Flask, words_of, *args):
    """What the French page shows for a stored code: the catalogue's words, read as French."""
    with app.test_request_context(headers=FRENCH):
        return words_of(*args)


def results(page: str) -> str:
    """The audit page's table of events, without the filter form's options."""
    return re.search(r'<section id="results".*?</section>', page, re.S).group(0)


def entries(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def admin_client(login_as) -> tuple[User, FlaskClient]:
    admin = factories.user("root@example.test", role=Role.ADMIN)
    return admin, login_as(admin)


def test_admin_creates_a_user_with_a_generated_password_shown_once(login_as) -> None:
    admin, client = admin_client(login_as)
    page = client.post(
        "/admin/users", data={"email": "new.staff@example.test", "role": "staff"}
    ).get_data(as_text=True)
    password = re.search(r'<code id="new-password">([^<]+)</code>', page).group(1)
    created = db.session.scalars(select(User).where(User.email == "new.staff@example.test")).one()
    assert created.role is Role.STAFF
    assert verify_password(created.password_hash, password)
    [entry] = entries(audit.USER_CREATED)
    assert entry.actor_id == admin.id and entry.target_id == str(created.id)
    assert entry.detail == {"email": "new.staff@example.test", "role": "staff"}
    assert entry.ip_address == "127.0.0.1"


def test_a_taken_email_is_refused_in_the_form(login_as) -> None:
    _, client = admin_client(login_as)
    response = client.post("/admin/users", data={"email": "ROOT@example.test", "role": "member"})
    assert response.status_code == 422
    assert "An account already exists for ROOT@example.test." in response.get_data(as_text=True)


def test_the_user_page_shows_the_sign_in_at_registration_and_never_for_no_sign_in(
    app: Flask, login_as
) -> None:
    english_client(app).post(
        "/register", data={"email": "new@example.test", "password": "a long enough password"}
    )
    registered = db.session.scalars(select(User).where(User.email == "new@example.test")).one()
    never = factories.user("never@example.test")
    _, client = admin_client(login_as)

    def last_sign_in(user: User) -> str:
        page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
        return re.search(r"</dt><dd>(.*?)</dd>", page[page.index("Last sign-in") :], re.S)[1]

    assert last_sign_in(registered).startswith(
        f'<time datetime="{registered.last_login_at.isoformat()}">'
    )
    assert last_sign_in(never) == "Never"
    french = client.get(f"/admin/users/{never.id}", headers=FRENCH).get_data(as_text=True)
    assert "<dd>Jamais</dd>" in french


def test_admin_changes_a_role_but_not_their_own(login_as) -> None:
    admin, client = admin_client(login_as)
    member = factories.user()
    client.post(f"/admin/users/{member.id}/role", data={"role": "staff"})
    db.session.refresh(member)
    assert member.role is Role.STAFF
    [entry] = entries(audit.USER_ROLE_CHANGED)
    assert entry.detail["from"] == "member" and entry.detail["to"] == "staff"
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "member"})
    assert "You cannot take the admin role from yourself." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role is Role.ADMIN


def test_deactivation_needs_the_confirmation_and_ends_sign_in(app: Flask, login_as) -> None:
    _, client = admin_client(login_as)
    member = factories.user("leaving@example.test")
    page = client.get(f"/admin/users/{member.id}/deactivate").get_data(as_text=True)
    assert "Deactivate leaving@example.test?" in page and 'type="checkbox"' in page
    refused = client.post(f"/admin/users/{member.id}/deactivate", data={})
    assert refused.status_code == 422 and "Tick the box to confirm." in refused.get_data(
        as_text=True
    )
    db.session.refresh(member)
    assert member.active
    client.post(f"/admin/users/{member.id}/deactivate", data={"confirm": "y"})
    db.session.refresh(member)
    assert not member.active
    assert [e.target_id for e in entries(audit.USER_DEACTIVATED)] == [str(member.id)]
    other = english_client(app)
    response = other.post(
        "/login", data={"email": "leaving@example.test", "password": factories.PASSWORD}
    )
    assert response.status_code == 422
    client.post(f"/admin/users/{member.id}/reactivate")
    db.session.refresh(member)
    assert member.active and len(entries(audit.USER_REACTIVATED)) == 1


def test_password_reset_replaces_the_password(login_as) -> None:
    _, client = admin_client(login_as)
    member = factories.user()
    page = client.post(f"/admin/users/{member.id}/password").get_data(as_text=True)
    password = re.search(r'<code id="new-password">([^<]+)</code>', page).group(1)
    db.session.refresh(member)
    assert verify_password(member.password_hash, password)
    assert not verify_password(member.password_hash, factories.PASSWORD)
    assert password not in str(entries(audit.USER_PASSWORD_RESET)[0].detail)


def test_staff_assignment_and_removal(login_as) -> None:
    admin, client = admin_client(login_as)
    staff = factories.user("reviewer@example.test", role=Role.STAFF)
    organization = factories.organization(name="Garage Dupont")
    client.post("/admin/staff", data={"staff_id": staff.id, "organization_id": organization.id})
    assignment = db.session.get(StaffAssignment, (staff.id, organization.id))
    assert assignment is not None and assignment.assigned_by_id == admin.id
    page = client.get("/admin/staff").get_data(as_text=True)
    assert 'aria-label="Remove reviewer@example.test from Garage Dupont"' in page
    again = client.post(
        "/admin/staff", data={"staff_id": staff.id, "organization_id": organization.id}
    )
    assert "already reviews Garage Dupont" in again.get_data(as_text=True)
    [entry] = entries(audit.STAFF_ASSIGNED)
    assert entry.organization_id == organization.id and entry.target_id == str(staff.id)
    client.post(f"/admin/staff/{staff.id}/{organization.id}/remove")
    db.session.expire_all()
    assert db.session.get(StaffAssignment, (staff.id, organization.id)) is None
    assert len(entries(audit.STAFF_UNASSIGNED)) == 1


def test_refresh_reads_the_upstream_status(app: Flask, login_as, sandbox) -> None:
    _, client = admin_client(login_as)
    integration_id, secret = sandbox.state.create_integration("Fleuriste")
    organization = factories.organization(integration_id=integration_id, secret=secret)
    client.post(f"/admin/organizations/{organization.id}/refresh")
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.ACTIVE
    sandbox.state.revoke_integration(integration_id, "contract ended")
    page = client.post(
        f"/admin/organizations/{organization.id}/refresh", follow_redirects=True
    ).get_data(as_text=True)
    assert "OneConnect reports the integration revoked." in page
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.REVOKED
    assert [e.detail["active"] for e in entries(audit.ORGANIZATION_STATUS_REFRESHED)] == [
        True,
        False,
    ]


def test_revoke_asks_for_confirmation_then_revokes_upstream(login_as, sandbox) -> None:
    _, client = admin_client(login_as)
    integration_id, secret = sandbox.state.create_integration("Fleuriste")
    organization = factories.organization(integration_id=integration_id, secret=secret)
    assert client.post(f"/admin/organizations/{organization.id}/revoke").status_code == 422
    db.session.refresh(organization)
    assert organization.is_active
    client.post(f"/admin/organizations/{organization.id}/revoke", data={"confirm": "y"})
    db.session.refresh(organization)
    assert organization.status is OrganizationStatus.REVOKED
    [upstream] = [i for i in sandbox.state.integrations() if i.id == integration_id]
    assert not upstream.active
    [entry] = entries(audit.ORGANIZATION_REVOKED)
    assert entry.organization_id == organization.id


def test_replacing_a_secret_checks_it_upstream_first(app: Flask, login_as, sandbox) -> None:
    _, client = admin_client(login_as)
    integration_id, secret = sandbox.state.create_integration("Fleuriste")
    organization = factories.organization(integration_id=integration_id, secret="old-secret")
    wrong = client.post(
        f"/admin/organizations/{organization.id}/secret", data={"integration_secret": "nope"}
    )
    assert wrong.status_code == 422 and "does not recognise" in wrong.get_data(as_text=True)
    client.post(
        f"/admin/organizations/{organization.id}/secret", data={"integration_secret": secret}
    )
    db.session.refresh(organization)
    box = app.extensions["secret_box"]
    assert box.decrypt(organization.integration_secret_encrypted) == secret
    assert len(entries(audit.ORGANIZATION_SECRET_REPLACED)) == 1


def test_webhook_log_lists_events_and_reprocesses_one(login_as) -> None:
    _, client = admin_client(login_as)
    event = WebhookEvent(
        event_id="evt-42",
        type="com.example.unknown",
        event_time=utcnow(),
        body='{"data": {}}',
        verification="kid sandbox-1",
        outcome=ProcessingOutcome.ERROR,
        outcome_detail="database hiccup",
    )
    db.session.add(event)
    db.session.commit()
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "evt-42" in listing and "kid sandbox-1" in listing and "database hiccup" in listing
    assert '<span class="outcome outcome-error">Error</span>' in listing
    french = client.get("/admin/webhooks", headers=FRENCH).get_data(as_text=True)
    assert '<span class="outcome outcome-error">Erreur</span>' in french
    answer = client.post(f"/admin/webhooks/{event.id}/reprocess", follow_redirects=True)
    assert "Event processed again: Unknown event type." in answer.get_data(as_text=True)
    db.session.refresh(event)
    assert event.outcome is ProcessingOutcome.UNKNOWN_TYPE
    [entry] = entries(audit.WEBHOOK_REPROCESSED)
    assert entry.detail == {"event_id": "evt-42", "from": "error", "to": "unknown_type"}


def action_cell(code: str, words: str, page: str) -> bool:
    """The audit table's cell for one action: its code kept in data-action, its words shown."""
    return (
        re.search(rf'<td [^>]*data-action="{code}"[^>]*>{re.escape(words)}</td>', page) is not None
    )


def test_audit_log_shows_sign_ins_failures_and_filters(app: Flask, login_as) -> None:
    other = english_client(app)
    other.post("/login", data={"email": "ghost@example.test", "password": "wrong password"})
    _, client = admin_client(login_as)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert action_cell("sign_in_failed", "Failed sign-in", page)
    assert "ghost@example.test" in page
    assert "root@example.test" in page and action_cell("sign_in", "Signed in", page)
    assert ">sign_in<" not in page and ">sign_in_failed<" not in page  # words, never codes
    # The filter shows the actions in words; its values stay the codes.
    assert '<option value="staff_assigned">Staff assigned to an organization</option>' in page
    only = client.get("/admin/audit?action=sign_in_failed").get_data(as_text=True)
    assert "ghost@example.test" in only and 'data-action="sign_in"' not in only
    assert '<option selected value="sign_in_failed">Failed sign-in</option>' in only


def test_every_audit_action_has_words_in_both_languages(app: Flask) -> None:
    for code in audit.ACTIONS:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            english = audit.action_label(code)
        assert english != code and "_" not in english
        assert in_french(app, audit.action_label, code) != code
    assert audit.action_label("from_a_newer_release") == "from_a_newer_release"


def test_every_action_code_the_log_records_has_words() -> None:
    codes = {
        value
        for name, value in vars(audit).items()
        if name.isupper() and isinstance(value, str) and name != "ACTIONS"
    }
    assert codes == set(audit.ACTIONS)
    assert all(code in audit._LABELS for code in codes)


@pytest.mark.parametrize("headers", [{"Accept-Language": "en"}, FRENCH])
def test_the_action_filter_shows_words_never_codes(login_as, headers: dict[str, str]) -> None:
    _, client = admin_client(login_as)
    page = client.get("/admin/audit", headers=headers).get_data(as_text=True)
    select_markup = re.search(r'<select[^>]*name="action".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_markup)
    assert {value for value, _ in options} == {"", *audit.ACTIONS}
    for value, label in options:
        assert label.strip() and label != value, value
        assert not re.fullmatch(r"[a-z_.]+", label), label  # a code, not words


def test_audit_details_are_words_in_the_readers_language(app: Flask, login_as) -> None:
    _, client = admin_client(login_as)
    member = factories.user("anne@example.test")
    client.post(f"/admin/users/{member.id}/role", data={"role": "staff"})
    page = client.get("/admin/audit?action=user_role_changed").get_data(as_text=True)
    assert action_cell("user_role_changed", "Role changed", page)
    assert "User: anne@example.test<br>Previous role: Member<br>New role: Staff" in page
    assert f"User #{member.id}" in page
    assert "from:" not in results(page) and '"to"' not in results(page)  # no raw parameters
    assert "member" not in results(page).replace("anne@", "")

    french = client.get("/admin/audit?action=user_role_changed", headers=FRENCH)
    page = french.get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert "Journal d'audit" in page
    # The roles in French, from the catalogue: Membre, Collaborateur du cabinet.
    event = entries(audit.USER_ROLE_CHANGED)[0]
    details = in_french(app, words.audit_details, event)
    assert [value for _caption, value in details] == [
        "anne@example.test",
        "Membre",
        "Collaborateur du cabinet",
    ]
    with app.test_request_context(headers=FRENCH):
        shown = "<br>".join(
            gettext("%(caption)s: %(value)s", caption=caption, value=value)
            for caption, value in details
        )
    assert str(escape(shown)).replace("&lt;br&gt;", "<br>") in page
    assert str(escape(in_french(app, audit.action_label, audit.USER_ROLE_CHANGED))) in page
    assert not re.search(r"\b(Member|Staff|member|staff)\b", results(page))


def test_revocation_and_reprocessing_details_are_worded(app: Flask, login_as) -> None:
    _, client = admin_client(login_as)
    organization = factories.organization(name="Fleuriste")
    revoked = audit.record(
        audit.ORGANIZATION_REVOKED,
        actor=None,
        organization=organization,
        target=organization,
        detail={"reason": "revoked", "source": "Revocation webhook"},
    )
    reprocessed = audit.record(
        audit.WEBHOOK_REPROCESSED,
        actor=None,
        detail={"event_id": "evt-1", "from": "error", "to": "unknown_type"},
    )
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Reason: no reason given<br>Origin: OneConnect revocation webhook" in page
    assert "Event ID: evt-1<br>Previous outcome: Error<br>New outcome: Unknown event type" in page
    assert f"Organization #{organization.id}" in page
    french = client.get("/admin/audit", headers=FRENCH).get_data(as_text=True)
    for event in (revoked, reprocessed):
        for _caption, value in in_french(app, words.audit_details, event):
            assert str(escape(value)) in french
    assert "aucun motif indiqué" in french and "Erreur" in french  # from the catalogue
    assert "unknown_type" not in french and "Revocation webhook" not in french


def test_sign_in_is_throttled_per_account_after_repeated_failures(app: Flask) -> None:
    member = factories.user("target@example.test")
    client = english_client(app)
    for _ in range(MAX_FAILURES):
        client.post("/login", data={"email": "Target@example.test", "password": "guess"})
    response = client.post(
        "/login", data={"email": "target@example.test", "password": factories.PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed attempts for this account" in response.get_data(as_text=True)
    assert len(entries(audit.SIGN_IN_FAILED)) == MAX_FAILURES
    assert len(entries(audit.SIGN_IN_THROTTLED)) == 1
    # Other accounts are not affected.
    factories.user("someone@example.test")
    ok = client.post(
        "/login", data={"email": "someone@example.test", "password": factories.PASSWORD}
    )
    assert ok.status_code == 303
    assert member.active


def attempt(
    app: Flask, source: str, password: str, client: FlaskClient | None = None
) -> TestResponse:
    client = client or app.test_client()
    return client.post(
        "/login",
        data={"email": "owner@example.test", "password": password},
        environ_base={"REMOTE_ADDR": source},
    )


def test_a_strangers_failures_never_lock_the_owner_out(app: Flask) -> None:
    factories.user("owner@example.test")
    stranger = app.test_client()
    for _ in range(MAX_FAILURES):
        attempt(app, "203.0.113.9", "guess", stranger)
    assert attempt(app, "203.0.113.9", factories.PASSWORD, stranger).status_code == 429
    # The owner, elsewhere, signs in as usual.
    assert attempt(app, "198.51.100.7", factories.PASSWORD).status_code == 303


def test_the_owners_known_device_signs_in_even_from_a_throttled_source(app: Flask) -> None:
    factories.user("owner@example.test")
    laptop = app.test_client()
    assert attempt(app, "192.0.2.1", factories.PASSWORD, laptop).status_code == 303
    laptop.post("/logout")
    for _ in range(MAX_FAILURES):  # someone on the same office network guesses
        attempt(app, "192.0.2.1", "guess")
    assert attempt(app, "192.0.2.1", factories.PASSWORD).status_code == 429
    assert attempt(app, "192.0.2.1", factories.PASSWORD, laptop).status_code == 303


def test_delays_grow_with_each_failure_from_a_source(app: Flask) -> None:
    import time_machine

    from portal.models import utcnow

    factories.user("owner@example.test")
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(MAX_FAILURES):
            attempt(app, "203.0.113.9", "guess")
        refused = attempt(app, "203.0.113.9", "guess")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
        clock.shift(31)
        assert attempt(app, "203.0.113.9", "guess").status_code == 422  # tried, and wrong
        assert attempt(app, "203.0.113.9", "guess").headers["Retry-After"] == "60"
        clock.shift(61)
        assert attempt(app, "203.0.113.9", factories.PASSWORD).status_code == 303


def test_an_account_failing_from_everywhere_is_refused_to_new_sources(app: Flask) -> None:
    from portal.auth import services as accounts

    factories.user("owner@example.test")
    for number in range(accounts.ACCOUNT_CEILING):
        attempt(app, f"10.0.{number // 250}.{number % 250}", "guess")
    assert attempt(app, "198.51.100.7", factories.PASSWORD).status_code == 429


def test_registration_and_sign_out_are_audited(app: Flask) -> None:
    client = app.test_client()
    client.post(
        "/register", data={"email": "new@example.test", "password": "a long enough password"}
    )
    client.post("/logout")
    [registered] = entries(audit.USER_REGISTERED)
    assert registered.actor_email == "new@example.test"
    assert [e.actor_email for e in entries(audit.SIGN_OUT)] == ["new@example.test"]


def test_a_password_reset_or_a_successful_sign_in_clears_the_failures(app: Flask) -> None:
    from portal.admin import services as admin_services

    member = factories.user("locked@example.test")
    admin = factories.user("boss@example.test", role=Role.ADMIN)
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        client.post("/login", data={"email": "locked@example.test", "password": "guess"})
    ok = client.post(
        "/login", data={"email": "locked@example.test", "password": factories.PASSWORD}
    )
    assert ok.status_code == 303  # nine failures then a success: the slate is clean again
    client.post("/logout")
    client = app.test_client()  # a browser that never signed in (the one above is known now)
    for _ in range(MAX_FAILURES):
        client.post("/login", data={"email": "locked@example.test", "password": "guess"})
    assert (
        client.post(
            "/login", data={"email": "locked@example.test", "password": factories.PASSWORD}
        ).status_code
        == 429
    )
    new_password = admin_services.reset_password(member, actor=admin)
    response = client.post(
        "/login", data={"email": "locked@example.test", "password": new_password}
    )
    assert response.status_code == 303


def test_the_overview_writes_numbers_and_times_in_the_readers_language(login_as) -> None:
    from datetime import UTC, datetime

    from portal.models import DepositStatus

    _, client = admin_client(login_as)
    organization = factories.organization(name="Fleuriste")
    factories.deposit(
        organization,
        status=DepositStatus.QUEUED,
        file_name="mars.pdf",
        queued_at=datetime(2026, 3, 9, 18, 43, tzinfo=UTC),  # 19:43 in Paris
    )
    english = client.get("/admin/").get_data(as_text=True)
    assert "1 deposit waits to be sent to OneConnect." in english
    assert ">Mar 9, 2026, 7:43 PM</time></a> (Fleuriste, mars.pdf)." in english
    french = client.get("/admin/", headers=FRENCH).get_data(as_text=True)
    assert ">09/03/2026 19:43</time></a>" in french and "(Fleuriste, mars.pdf)" in french
    assert "File d'envoi" in french and "Mar 9" not in french
