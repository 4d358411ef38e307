"""One background thread running the sandbox's delayed work: decisions and webhook deliveries."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

Action = Callable[[], None]


class Scheduler:
    """A queue of actions due at a time, run in order by one lazily started daemon thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._queue: list[tuple[float, int, Action]] = []
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def call_later(self, delay: float, action: Action) -> None:
        """Run `action` in the scheduler thread once `delay` seconds have passed."""
        with self._wakeup:
            if self._stopped:
                return
            heapq.heappush(self._queue, (self._clock() + delay, next(self._sequence), action))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="oneconnect-sandbox-scheduler", daemon=True
                )
                self._thread.start()
            self._wakeup.notify()

    def clear(self) -> None:
        """Drop every action not started yet."""
        with self._wakeup:
            self._queue.clear()

    def stop(self, timeout: float = 5.0) -> None:
        """Drop pending actions and end the thread, waiting for a running action to finish."""
        with self._wakeup:
            self._stopped = True
            self._queue.clear()
            self._wakeup.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while (action := self._next_due()) is not None:
            try:
                action()
            except Exception:
                # One failing action must not stop the decisions and deliveries after it.
                logger.exception("sandbox scheduled action failed")

    def _next_due(self) -> Action | None:
        with self._wakeup:
            while not self._stopped:
                if not self._queue:
                    self._wakeup.wait()
                    continue
                due = self._queue[0][0] - self._clock()
                if due > 0:
                    self._wakeup.wait(due)
                    continue
                return heapq.heappop(self._queue)[2]
            return None
