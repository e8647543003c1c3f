"""One behaviour for every job queue: a queued job runs once with its arguments.

The Celery case uses a real worker thread and the real Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import Session

from privacyops.jobs import celery_app as celery_module
from privacyops.jobs.queue import CeleryJobQueue, InlineJobQueue, JobQueue, NullJobQueue
from privacyops.jobs.registry import job, run_job
from privacyops.jobs.scheduler import Scheduler
from privacyops.jobs.transactional import enqueue_after_commit
from privacyops.settings import Settings

TEST_REDIS = "redis://127.0.0.1:6379/15"


@job("test.append_line")
def _append_line(settings: Settings, path: str, line: str) -> None:
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


@job("test.every_minute", every_seconds=60)
def _periodic(settings: Settings) -> None:
    return None


def _wait_for(path: Path, lines: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and len(found := path.read_text().splitlines()) >= lines:
            return found
        time.sleep(0.05)
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(params=["inline", "celery"])
def job_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobQueue]:
    settings = Settings(data_dir=tmp_path, redis_url=TEST_REDIS, job_backend=request.param)
    if request.param == "inline":
        inline = InlineJobQueue(settings)
        yield inline
        inline.close()
        return
    celery_module._APPS.pop(TEST_REDIS, None)
    app = celery_module.celery_app(settings)
    app.conf.task_default_queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield CeleryJobQueue(settings)
    celery_module._APPS.pop(TEST_REDIS, None)


def test_a_queued_job_runs_once_with_its_arguments(job_queue: JobQueue, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    job_queue.enqueue("test.append_line", path=str(out), line="first")
    job_queue.enqueue("test.append_line", path=str(out), line="second")
    assert _wait_for(out, 2) == ["first", "second"]


def test_jobs_asked_for_in_a_transaction_wait_for_its_commit(db: Session) -> None:
    jobs = NullJobQueue()
    enqueue_after_commit(db, jobs, "test.append_line", path="x", line="kept")
    assert jobs.enqueued == []
    db.commit()
    assert jobs.enqueued == [("test.append_line", {"path": "x", "line": "kept"})]


def test_jobs_of_a_rolled_back_transaction_never_run(db: Session) -> None:
    jobs = NullJobQueue()
    enqueue_after_commit(db, jobs, "test.append_line", path="x", line="dropped")
    db.rollback()
    db.commit()
    assert jobs.enqueued == []


def test_an_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    from privacyops.errors import NotFound

    with pytest.raises(NotFound, match="no job named 'nope'"):
        run_job("nope", Settings(data_dir=tmp_path))


def test_the_scheduler_queues_periodic_jobs_at_their_interval() -> None:
    scheduler = Scheduler(NullJobQueue())
    last: dict[str, Any] = {}
    assert "test.every_minute" in scheduler.due(last, now=1000.0)
    last["test.every_minute"] = 1000.0
    assert "test.every_minute" not in scheduler.due(last, now=1059.0)
    assert "test.every_minute" in scheduler.due(last, now=1060.0)
