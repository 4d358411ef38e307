"""What an operator sees: JSON log lines (logs), Prometheus metrics (metrics), readiness and
the senders' heartbeats (readiness)."""
