"""Prometheus metrics. Counters and the request histogram live in each process (gathered
across gunicorn's workers when PROMETHEUS_MULTIPROC_DIR names a folder they share); the queue
gauges are read from the database at scrape time, so every instance reports the same queue."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector


class QueueCollector(Collector):
    """How many deposits and e-mails wait, and how long the oldest deposit has waited."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from portal.deposits.delivery import queue_stats
        from portal.extensions import db
        from portal.models import MailStatus, OutgoingMail, utcnow

        stats = queue_stats()
        depth = GaugeMetricFamily("portal_queue_depth", "Deposits waiting to be sent")
        depth.add_metric([], stats.depth)
        yield depth
        age = GaugeMetricFamily(
            "portal_queue_oldest_seconds", "How long the oldest waiting deposit has waited"
        )
        oldest = stats.oldest
        since = (oldest.queued_at or oldest.created_at) if oldest is not None else None
        age.add_metric([], (utcnow() - since).total_seconds() if since else 0.0)
        yield age
        mails = GaugeMetricFamily("portal_mail_queue_depth", "E-mails waiting to be sent")
        waiting = select(func.count(OutgoingMail.id)).where(
            OutgoingMail.status == MailStatus.QUEUED
        )
        mails.add_metric([], db.session.scalar(waiting) or 0)
        yield mails


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)  # not published unless an operator chose a token
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is required\n", 401, {"WWW-Authenticate": "Bearer"})
    registry = _registry()
    queue = QueueCollector()
    body = generate_latest(registry) + generate_latest(_OnlyThis(queue))
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})


class _OnlyThis(CollectorRegistry):
    """A registry of one collector, made for one scrape (it queries this request's database)."""

    def __init__(self, collector: Collector) -> None:
        super().__init__(auto_describe=False)
        self.register(collector)


bp = Blueprint("observability", __name__)
bp.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
