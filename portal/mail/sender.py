"""The sender's share of e-mail: each run sends what is due, and now and then queues the
weekly summaries (portal.deposits.worker runs it beside the deposits)."""

from __future__ import annotations

import logging
import time

from portal.mail import digest, outbox
from portal.models import utcnow

log = logging.getLogger(__name__)

DIGEST_EVERY_SECONDS = 600.0
_next_digest_check = 0.0


def run_round(owner: str, *, batch: int = outbox.BATCH) -> int:
    """Queue due summaries (every ten minutes at most), then send due e-mails; returns how many
    e-mails were attempted."""
    global _next_digest_check
    if time.monotonic() >= _next_digest_check:
        _next_digest_check = time.monotonic() + DIGEST_EVERY_SECONDS
        queued = digest.queue_due(utcnow())
        if queued:
            log.info("sender %s queued %d weekly summaries", owner, queued)
    return outbox.send_due(owner, limit=batch)
