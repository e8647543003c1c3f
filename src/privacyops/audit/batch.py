"""Group commit for the audit log: events of concurrent requests appended in one transaction,
each request answered only once its own event is committed.

Why: a request that only reads (a consent decision asked before every email) would otherwise
pay a transaction of its own, with the chain head's lock and a flush to disk, for the one
event that says who asked about whom. Here the first caller to find nobody writing writes
everything queued so far, its own event included; callers arriving meanwhile queue, and one of
them writes the next batch when it is done. No thread of its own: handing work to one costs a
wake-up per request. Nothing is acknowledged before it is committed: `record` returns once the
batch holding the event is, and raises when that failed (the caller answers with an error, not
with the data). The caller must hold no open transaction (on SQLite the writer needs the lock).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.service import Entry, record_many
from privacyops.db import unit_of_work
from privacyops.errors import PrivacyOpsError

MAX_BATCH = 500  # events per transaction at most
WAIT_SECONDS = 30.0  # a caller gives up on its event after this long (the database is stuck)


class AuditUnavailable(PrivacyOpsError):
    """The audit event could not be committed, so what it records must not be answered."""

    status_code = 503
    title = "Service unavailable"


@dataclass
class _Queued:
    entry: Entry
    done: bool = False
    error: str | None = None


class AuditQueue:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._changed = threading.Condition()
        self._pending: list[_Queued] = []
        self._writing = False

    def record(self, entry: Entry) -> None:
        """Append `entry` and return once it is committed."""
        mine = _Queued(entry)
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            self._pending.append(mine)
        while True:
            batch = self._wait_for_turn(mine, deadline)
            if batch is None:
                break
            self._write(batch)
        if mine.error is not None:
            raise AuditUnavailable(f"the audit event could not be written: {mine.error}")

    def _wait_for_turn(self, mine: _Queued, deadline: float) -> list[_Queued] | None:
        """None once `mine` is written; otherwise the batch this caller is to write."""
        with self._changed:
            while not mine.done:
                if not self._writing:
                    self._writing = True
                    batch = self._pending[:MAX_BATCH]
                    del self._pending[:MAX_BATCH]
                    return batch
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AuditUnavailable("the audit log did not answer in time")
                self._changed.wait(left)
            return None

    def _write(self, batch: list[_Queued]) -> None:
        error = "the writer was interrupted"
        try:
            with unit_of_work(self._factory) as db:
                record_many(db, [item.entry for item in batch])
            error = ""
        except Exception as failure:  # each caller in the batch learns it failed
            error = str(failure) or type(failure).__name__
        finally:
            with self._changed:
                for item in batch:
                    item.done, item.error = True, error or None
                self._writing = False
                self._changed.notify_all()
