"""Job queues: the port, and its in-process, Celery and null implementations."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Protocol

from privacyops.jobs.registry import run_job
from privacyops.settings import Settings

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    def enqueue(self, name: str, **kwargs: Any) -> None:
        """Run job `name` with `kwargs` (plain JSON values) soon, outside the caller's thread."""
        ...


class InlineJobQueue:
    """The embedded default: one worker thread in this process runs jobs in order.

    A job that fails is logged and dropped: jobs re-derive their work from the database
    (pending mail, due requests), so the next periodic run picks it up again.
    """

    def __init__(self, settings: Settings, *, synchronous: bool = False) -> None:
        self.settings = settings
        self.synchronous = synchronous
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, name: str, **kwargs: Any) -> None:
        if self.synchronous:
            run_job(name, self.settings, kwargs)
            return
        self._ensure_worker()
        self._queue.put((name, kwargs))

    def join(self) -> None:
        """Wait until every queued job has run (tests, and shutdown)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="privacyops-jobs", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                name, kwargs = item
                run_job(name, self.settings, kwargs)
            except Exception:
                log.exception("job %s failed", item[0] if item else "?")
            finally:
                self._queue.task_done()


class CeleryJobQueue:
    """Scale-out: jobs go to Celery workers through Redis (`privacyops worker`)."""

    def __init__(self, settings: Settings) -> None:
        from privacyops.jobs.celery_app import celery_app

        self.app = celery_app(settings)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.app.send_task(name, kwargs=kwargs)


class NullJobQueue:
    """Records what would run; runs nothing."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.enqueued.append((name, kwargs))


def make_job_queue(settings: Settings) -> JobQueue:
    if settings.job_backend == "celery":
        return CeleryJobQueue(settings)
    return InlineJobQueue(settings)
