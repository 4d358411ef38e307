"""Several machines' worth of the portal on one PostgreSQL: two gunicorn instances take 200
deposits over HTTP while OneConnect fails, answers are lost and connections reset; two workers
send what waits, one of them killed in the middle of a send. Nothing is lost, nothing is sent
twice, and the killed worker's deposit is taken over within the lease."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from portal.config import PROJECT_ROOT
from portal.extensions import db
from portal.models import Deposit, DepositStatus, Organization
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import PASSWORD
from tests.support import invoices

DEPOSITS = 200
LEASE_SECONDS = 8
EMAIL = "compta@multi-instances.test"


@pytest.fixture
def postgresql(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share one database server: PostgreSQL only")
    return database_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str, storage: Path, sandbox: Any, smtp: Any) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "multi-instance-test",
        "PORTAL_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "PORTAL_STORAGE_DIR": str(storage),
        "PORTAL_ONECONNECT_API_BASE": sandbox.api_base,
        "PORTAL_ONECONNECT_TOKEN_URL": sandbox.token_url,
        "PORTAL_ONECONNECT_JWKS_URL": sandbox.jwks_url,
        "PORTAL_SMTP_URL": smtp.url,
        "PORTAL_SENDER": "external",
        "PORTAL_SENDER_LEASE_SECONDS": str(LEASE_SECONDS),
        "PORTAL_SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
    }


class Processes:
    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()


def start_instance(processes: Processes, env: dict[str, str]) -> str:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "portal:create_app()"]
    processes.start(command, env)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(url + "/healthz"), timeout=30)
    return url


def start_worker(processes: Processes, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "flask", "--app", "portal", "worker", "--poll", "0.2"]
    return processes.start(command, env)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
        return False


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    assert found, f"no {name} in the page"
    return found.group(1)


def signed_in(instance: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(instance + "/login", timeout=10).text
    answer = browser.post(
        instance + "/login",
        data={"csrf_token": hidden(page, "csrf_token"), "email": EMAIL, "password": PASSWORD},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text[:500]
    return browser


def deposit_over_http(browser: requests.Session, instance: str, organization_id: int) -> int:
    """What a user does: open the form, send one invoice; returns the deposit's id."""
    form_url = f"{instance}/organizations/{organization_id}/deposits/new"
    page = browser.get(form_url, timeout=30).text
    answer = browser.post(
        f"{instance}/organizations/{organization_id}/deposits",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "generated_reference": hidden(page, "generated_reference"),
            "kind": "purchase",
            "user_email": EMAIL,
            "submit": "y",
        },
        files={"invoice_file": ("facture.pdf", invoices.pdf(), "application/pdf")},
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    found = re.search(r"/deposits/(\d+)$", answer.headers["Location"])
    assert found, answer.headers["Location"]
    return int(found.group(1))


def statuses() -> dict[DepositStatus, int]:
    db.session.expire_all()
    rows = db.session.execute(select(Deposit.status, func.count()).group_by(Deposit.status))
    return {status: count for status, count in rows}


def test_two_instances_and_two_workers_lose_nothing_and_send_nothing_twice(
    app: Flask,
    postgresql: str,
    tmp_path: Path,
    sandbox: Any,
    smtp: Any,
    processes: Processes,
) -> None:
    integration_id, secret = sandbox.state.create_integration("Multi-instances SAS")
    member = factories.user(email=EMAIL)
    organization = factories.organization(member, integration_id=integration_id, secret=secret)
    organization_id = organization.id
    env = environment(postgresql, tmp_path / "shared-files", sandbox, smtp)
    instances = [start_instance(processes, env), start_instance(processes, env)]
    browsers = [signed_in(instance) for instance in instances]

    # While the deposits come in, OneConnect fails, loses answers and drops connections: many
    # first attempts (made in the request) fail and leave their deposit to the workers.
    faults = sandbox.state.faults
    faults.fail_next(60)
    faults.lose_next_answer(count=10)
    faults.reset_next(count=10)
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(
            pool.map(
                lambda n: deposit_over_http(browsers[n % 2], instances[n % 2], organization_id),
                range(DEPOSITS),
            )
        )
    assert len(set(made)) == DEPOSITS
    faults.clear()

    # The first import a worker makes hangs upstream (and is carried out later): its worker is
    # killed while it waits, and the other one must take the deposit over once the lease ends.
    faults.hang_next(LEASE_SECONDS)
    faults.fail_next(5)
    workers = [start_worker(processes, env), start_worker(processes, env)]
    killed, held = kill_the_worker_in_the_middle_of_a_send(workers)
    killed_at = time.monotonic()

    wait_until(lambda: db.session.get(Deposit, held).status is DepositStatus.SENT, timeout=60)
    recovery = time.monotonic() - killed_at
    wait_until(lambda: statuses().get(DepositStatus.QUEUED, 0) == 0, timeout=180)
    time.sleep(LEASE_SECONDS + 1)  # the held call finishes upstream before documents are counted

    assert statuses() == {DepositStatus.SENT: DEPOSITS}
    assert recovery <= 30, f"the killed worker's deposit waited {recovery:.1f} s"
    assert killed.poll() is not None
    documents = sandbox.state.documents()
    assert len(documents) == DEPOSITS, "a deposit reached OneConnect twice"
    by_reference = {document.external_reference: document for document in documents}
    db.session.expire_all()
    for deposit in db.session.scalars(select(Deposit)):
        assert by_reference[deposit.external_reference].document_id == deposit.document_id
    assert db.session.get(Organization, organization_id).is_active


def kill_the_worker_in_the_middle_of_a_send(
    workers: list[subprocess.Popen[bytes]],
) -> tuple[subprocess.Popen[bytes], int]:
    """SIGKILL the worker whose claimed deposit has a call on the wire; returns it and the
    deposit it held."""
    host = socket.gethostname()
    found: list[tuple[subprocess.Popen[bytes], int]] = []

    def one_is_sending() -> bool:
        db.session.expire_all()
        for deposit in db.session.scalars(
            select(Deposit).where(Deposit.answer_pending.is_(True), Deposit.claimed_by.is_not(None))
        ):
            for worker in workers:
                if deposit.claimed_by.startswith(f"{host}:{worker.pid}:"):
                    found.append((worker, deposit.id))
                    return True
        return False

    wait_until(one_is_sending, timeout=60)
    worker, deposit_id = found[0]
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    return worker, deposit_id
