"""The weekly summary: members get their organizations' week, staff the new, refused and
failed deposits of the organizations assigned to them; once per week, opt-in, nothing when
nothing happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.mail import digest
from portal.models import (
    DepositEvent,
    DepositEventKind,
    DepositStatus,
    MailKind,
    Membership,
    Organization,
    Role,
    User,
)
from tests import factories
from tests.support.mail import BASE_URL, app, rows, send_all

# Wednesday 25 November 2026 at noon (UTC): in the week of Monday 23 November.
IN_WEEK = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Monday 30 November 2026, 08:30 in Paris: that week's summary is due.
DUE = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)

__all__ = ["app"]  # the fixture: this module's portal sends mail to the test's SMTP server


@pytest.fixture
def week(app: Flask) -> dict[str, Any]:
    member = factories.user("sophie@boulangerie.test", weekly_digest=True, locale="en")
    staff = factories.user("claire@cabinet.test", role=Role.STAFF, weekly_digest=True, locale="fr")
    quiet = factories.user("karim@garage.test", weekly_digest=True)
    unwilling = factories.user("lucie@boulangerie.test")  # weekly_digest is off by default
    organization = factories.organization(member, name="Boulangerie Lefebvre")
    organization.memberships.append(Membership(user=unwilling))
    factories.organization(quiet, name="Garage Benali")
    factories.assign(staff, organization)
    factories.deposit(
        organization, status=DepositStatus.ACCEPTED, created_at=IN_WEEK, decided_at=IN_WEEK
    )
    refused = factories.deposit(
        organization,
        status=DepositStatus.REFUSED,
        file_name="fa-0187.pdf",
        rejection_reason="TVA absente",
        created_at=IN_WEEK,
        decided_at=IN_WEEK,
    )
    failed = factories.deposit(
        organization, status=DepositStatus.FAILED, file_name="photo.pdf", created_at=IN_WEEK
    )
    db.session.add(DepositEvent(deposit=failed, kind=DepositEventKind.FAILED, created_at=IN_WEEK))
    # The week before: not in this summary.
    factories.deposit(organization, created_at=IN_WEEK - timedelta(days=7))
    db.session.commit()
    return {
        "member": member,
        "staff": staff,
        "refused": refused,
        "failed": failed,
        "organization": organization,
    }


def test_the_due_week_runs_monday_to_sunday_paris_and_is_due_monday_at_seven() -> None:
    assert digest.due_week(DUE) == digest.Week(date(2026, 11, 23), date(2026, 11, 29))
    # 06:59 in Paris on that Monday: still the week before's.
    early = datetime(2026, 11, 30, 5, 59, tzinfo=UTC)
    assert digest.due_week(early) == digest.Week(date(2026, 11, 16), date(2026, 11, 22))


def test_members_and_staff_who_asked_get_one_summary_of_their_week(
    app: Flask, smtp: Any, week: dict[str, Any]
) -> None:
    assert digest.queue_due(DUE) == 2
    assert digest.queue_due(DUE + timedelta(hours=3)) == 0  # once per week
    assert {row.to_address for row in rows()} == {"sophie@boulangerie.test", "claire@cabinet.test"}
    assert {row.kind for row in rows()} == {MailKind.DIGEST}
    send_all()
    received = {mail.envelope_to[0]: mail for mail in smtp.messages()}
    member = received["sophie@boulangerie.test"]
    assert member.subject == "Your week on the portal, Nov 23, 2026 to Nov 29, 2026"
    assert "Your organizations' week" in member.text
    assert "3 new deposits, 1 accepted, 1 refused, 1 failed." in member.text
    refused, failed = week["refused"], week["failed"]
    for body in (member.text, member.html):
        assert "Boulangerie Lefebvre" in body
        assert "fa-0187.pdf" in body and "TVA absente" in body
        assert f"{BASE_URL}/deposits/{refused.id}" in body
        assert f"{BASE_URL}/deposits/{failed.id}" in body
    assert member.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    staff = received["claire@cabinet.test"]
    assert staff.header("Content-Language") == "fr"
    assert "Boulangerie Lefebvre" in staff.text and "Garage Benali" not in staff.text


def test_a_week_with_nothing_new_sends_nothing(app: Flask, week: dict[str, Any]) -> None:
    assert digest.queue_due(DUE + timedelta(days=7)) == 0
    assert rows() == []


def test_an_account_that_stopped_the_summary_gets_none(app: Flask, week: dict[str, Any]) -> None:
    member: User = week["member"]
    member.weekly_digest = False
    db.session.commit()
    digest.queue_due(DUE)
    assert [row.to_address for row in rows()] == ["claire@cabinet.test"]


def test_long_lists_are_cut_and_counted(app: Flask, week: dict[str, Any]) -> None:
    organization: Organization = week["organization"]
    for number in range(12):
        factories.deposit(
            organization,
            status=DepositStatus.REFUSED,
            created_at=IN_WEEK,
            decided_at=IN_WEEK,
            file_name=f"extra-{number}.pdf",
        )
    summary = digest.summarize(week["member"], digest.due_week(DUE))
    (only,) = summary
    assert len(only["refused"]) == digest.LISTED and only["more_refused"] == 3
