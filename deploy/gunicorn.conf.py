"""gunicorn settings for portal-web.service (`gunicorn -c deploy/gunicorn.conf.py`).

With PROMETHEUS_MULTIPROC_DIR set (a folder emptied before each start, see the unit), every
worker process writes its metrics there and /metrics adds them up; a worker that exits is
marked dead so its live gauges stop counting."""

from typing import Any

from prometheus_client import multiprocess

bind = "127.0.0.1:8000"
workers = 4
threads = 4
timeout = 60
graceful_timeout = 30
accesslog = None  # the portal writes one JSON line per request itself


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)
