"""Jobs asked for inside a transaction run only after it commits, and never if it rolls back.

Otherwise a job could act on rows that were never committed (a mail for a request that failed
to save), or run before the rows it needs are visible to its own session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from privacyops.jobs.queue import JobQueue

_PENDING = "privacyops_pending_jobs"


def enqueue_after_commit(db: Session, jobs: JobQueue, name: str, **kwargs: Any) -> None:
    db.connection()  # begins the transaction now, so the job belongs to it
    pending: list[tuple[JobQueue, str, dict[str, Any]]] = db.info.setdefault(_PENDING, [])
    pending.append((jobs, name, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for jobs, name, kwargs in session.info.pop(_PENDING, []):
        jobs.enqueue(name, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only the session's own transaction ending counts, not a nested savepoint inside it.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
