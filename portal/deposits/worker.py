"""The sender: delivers queued deposits and e-mails in the background, inside the portal or
on its own.

Inside the portal (the default) it is one daemon thread per process, started by the first
request. With several app instances, run `flask --app portal worker` instead (any number of
them): deposits and e-mails are claimed with leases, so no two senders ever send one at the
same time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime
from types import FrameType

import click
from flask import Flask, current_app

from portal.deposits import delivery, drafts, reading
from portal.deposits.storage import file_store
from portal.extensions import db
from portal.mail import sender as mail_sender
from portal.models import utcnow
from portal.observability import readiness

log = logging.getLogger(__name__)

# A run never sends more than this before looking at its stop signal again.
BATCH = 50
PURGE_EVERY_SECONDS = 600.0


class Sender:
    def __init__(self, app: Flask, name: str | None = None, poll_interval: float = 1.0) -> None:
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.poll_interval = poll_interval
        self.started_at = utcnow()
        self._last_beat: datetime | None = None

    def run_once(self) -> int:
        """Send every deposit that is due (up to BATCH), and now and then delete expired drafts;
        returns how many deposits were attempted."""
        with self.app.app_context():
            try:
                self._last_beat = readiness.beat(self.name, self.started_at, self._last_beat)
                attempted = self._send_due()
                attempted += mail_sender.run_round(self.name, batch=BATCH)
                attempted += self._read_one_photo()
                self._purge_drafts_now_and_then()
                return attempted
            finally:
                db.session.remove()

    _next_purge: float = 0.0

    def _read_one_photo(self) -> int:
        """OCR one invoice photo waiting to be read (one a run: deposits wait at most one
        OCR's timeout behind it)."""
        draft = reading.claim_ocr()
        if draft is None:
            return 0
        reading.read_by_ocr(draft, file_store(), timeout=float(current_app.config["OCR_TIMEOUT"]))
        return 1

    def _purge_drafts_now_and_then(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        deleted = drafts.purge_expired(file_store())
        if deleted:
            log.info("sender %s deleted %d expired drafts", self.name, deleted)

    def _send_due(self) -> int:
        attempted = 0
        while attempted < BATCH:
            claims = delivery.claim_due(self.name)
            if not claims:
                break
            for deposit_id, claim in claims:
                delivery.deliver(
                    deposit_id,
                    claim,
                    client=current_app.extensions["oneconnect"],
                    secret_box=current_app.extensions["secret_box"],
                    store=file_store(),
                )
                attempted += 1
        return attempted

    def run_forever(self, stop: threading.Event) -> None:
        log.info("sender %s started", self.name)
        while not stop.is_set():
            try:
                attempted = self.run_once()
            except Exception:  # the database or the disk may be down: keep the sender alive
                log.exception("sender %s: a run failed; trying again shortly", self.name)
                attempted = 0
            if not attempted:
                stop.wait(self.poll_interval)
        log.info("sender %s stopped", self.name)


def start_in_process(app: Flask) -> None:
    """Start this process's sender on the app's first request (never in CLI commands)."""
    lock = threading.Lock()

    @app.before_request
    def start_sender_once() -> None:
        if "sender" in app.extensions:
            return
        with lock:
            if "sender" in app.extensions:
                return
            stop = threading.Event()
            sender = Sender(app, poll_interval=float(app.config["SENDER_POLL_SECONDS"]))
            thread = threading.Thread(
                target=sender.run_forever, args=(stop,), name="deposit-sender", daemon=True
            )
            app.extensions["sender"] = (thread, stop)
            thread.start()


@click.command("worker")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at the queue.")
def worker_command(poll: float) -> None:
    """Send queued deposits and e-mails until stopped (SIGTERM or Ctrl-C)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    sender = Sender(current_app._get_current_object(), poll_interval=poll)  # type: ignore[attr-defined]
    click.echo(f"Sender {sender.name} running; stop it with Ctrl-C.")
    sender.run_forever(stop)
