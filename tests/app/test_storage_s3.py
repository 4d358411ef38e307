"""The whole portal on an S3-compatible bucket (a real moto server): deposits, delivery, the
invoice viewer, downloads, drafts purged, and outages of the bucket."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import create_app
from portal.deposits import drafts
from portal.deposits.storage import file_store
from portal.deposits.worker import Sender
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Draft, Organization, utcnow
from tests import factories
from tests.app.test_deposits import deposit_form, send
from tests.conftest import app_config
from tests.support import invoices

PDF = invoices.pdf()


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, sandbox: Any, s3_storage: dict[str, str]
) -> Iterator[Flask]:
    app = create_app(app_config(database_url, tmp_path, sandbox, **s3_storage))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def organization(app: Flask, sandbox: Any, login_as) -> Organization:
    integration_id, secret = sandbox.state.create_integration("Seau SARL")
    member = factories.user(email="owner@boulangerie.test")
    login_as(member)
    return factories.organization(member, integration_id=integration_id, secret=secret)


def bucket_objects(s3_server: Any, app: Flask) -> dict[str, bytes]:
    bucket = app.config["STORAGE_URL"].removeprefix("s3://").split("/")[0]
    return s3_server.objects(bucket)


def disk_files(app: Flask) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_deposit_lives_in_the_bucket_from_upload_to_viewer(
    app: Flask, client: FlaskClient, organization: Organization, sandbox: Any, s3_server: Any
) -> None:
    response = send(client, organization, deposit_form(PDF, "facture.pdf"))

    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.status is DepositStatus.SENT
    [document] = sandbox.state.documents()
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()  # OneConnect got the bucket's
    objects = bucket_objects(s3_server, app)
    assert list(objects.values()) == [PDF]
    assert next(iter(objects)) == f"deposits/{deposit.storage_key}"
    assert disk_files(app) == []

    for served in ("file", "invoice"):  # streamed from the bucket, closed once sent
        with client.get(f"/deposits/{deposit.id}/{served}") as answer:
            assert answer.data == PDF
    pages = client.get(f"/deposits/{deposit.id}/invoice/view").get_data(as_text=True)
    assert "pages/1.png" in pages
    image = client.get(f"/deposits/{deposit.id}/invoice/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert response.status_code == 303


def test_an_outage_of_the_bucket_refuses_the_upload_in_words_and_keeps_nothing(
    app: Flask, client: FlaskClient, organization: Organization, sandbox: Any, s3_server: Any
) -> None:
    with s3_server.outage():
        response = send(client, organization, deposit_form(PDF, "facture.pdf"))

    assert response.status_code == 422
    assert "its file store does not answer" in response.get_data(as_text=True)
    assert db.session.scalars(select(Deposit)).all() == []
    assert db.session.scalars(select(Draft)).all() == []
    assert bucket_objects(s3_server, app) == {}
    assert sandbox.state.documents() == []


def test_an_outage_during_delivery_waits_then_sends_once(
    app: Flask, client: FlaskClient, organization: Organization, sandbox: Any, s3_server: Any
) -> None:
    from tests.app.test_delivery import assert_each_sent_exactly_once

    sandbox.state.faults.fail_next(1)  # the request's own attempt fails: the worker's turn
    send(client, organization, deposit_form(PDF, "facture.pdf"))
    deposit_id = db.session.scalars(select(Deposit.id)).one()
    db.session.execute(update(Deposit).values(next_attempt_at=utcnow()))
    db.session.commit()
    with s3_server.outage():
        Sender(app).run_once()
    deposit = db.session.get(Deposit, deposit_id, populate_existing=True)
    assert deposit.status is DepositStatus.QUEUED
    assert "file store could not be reached" in str(deposit.last_error)

    db.session.execute(update(Deposit).values(next_attempt_at=utcnow()))
    db.session.commit()
    Sender(app).run_once()
    assert_each_sent_exactly_once(sandbox, [deposit_id])


def test_expired_drafts_leave_the_bucket(
    app: Flask, organization: Organization, s3_server: Any
) -> None:
    import io

    member = organization.memberships[0].user
    draft = drafts.stage(organization, member, io.BytesIO(PDF), "oubli.pdf", store=file_store())
    assert len(bucket_objects(s3_server, app)) == 1
    db.session.execute(
        update(Draft).where(Draft.id == draft.id).values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()

    assert drafts.purge_expired(file_store()) == 1
    assert bucket_objects(s3_server, app) == {}
