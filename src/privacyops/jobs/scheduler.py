"""The embedded default's clock: queues each periodic job at its interval, in a thread."""

from __future__ import annotations

import threading
import time

from privacyops.jobs.queue import JobQueue
from privacyops.jobs.registry import registered


class Scheduler:
    def __init__(self, jobs: JobQueue, tick_seconds: float = 1.0) -> None:
        self.jobs = jobs
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="privacyops-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def due(self, last_run: dict[str, float], now: float) -> list[str]:
        """Periodic jobs whose interval has passed since they last ran (all of them at start)."""
        names = []
        for job in registered().values():
            if job.every_seconds and now - last_run.get(job.name, -1e18) >= job.every_seconds:
                names.append(job.name)
        return names

    def _run(self) -> None:
        last_run: dict[str, float] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for name in self.due(last_run, now):
                last_run[name] = now
                self.jobs.enqueue(name)
            self._stop.wait(self.tick_seconds)
