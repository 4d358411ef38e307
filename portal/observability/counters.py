"""The portal's Prometheus counters and histograms (no Flask: the upstream client counts its
key fetches here too). Exposed by portal.observability.metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "portal_delivery_attempts", "Attempts to send a deposit to OneConnect, by outcome", ["outcome"]
)
RECOGNISED = Counter(
    "portal_duplicates_recognised",
    "409 answers recognised as the portal's own document (an earlier answer was lost)",
)
WEBHOOKS = Counter("portal_webhooks", "Webhook deliveries received, by answer", ["outcome"])
JWKS_FETCHES = Counter("portal_jwks_fetches", "Fetches of OneConnect's webhook keys", ["result"])
MAILS = Counter("portal_mails", "E-mails sent, put off to a later try, or failed", ["event"])
REQUESTS = Histogram(
    "portal_request_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
