"""Group commit: events of concurrent callers share transactions, and each caller returns only
once its own event is committed and chained."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.batch import AuditQueue, AuditUnavailable
from privacyops.audit.service import Entry, record_many
from privacyops.audit.verify import verify_chain
from privacyops.db import make_engine, make_session_factory, unit_of_work
from privacyops.migrate import upgrade
from privacyops.models.audit import AuditEvent
from tests.vault.support import scratch_database

CALLERS = 200


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with scratch_database(tmp_path, "audit_batch") as url:
        upgrade(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()


def entry(number: int, **details: object) -> Entry:
    return Entry(AuditAction.consent_decided, actor=f"token:{number}", details=details)


def committed_actors(factory: sessionmaker[Session]) -> list[str]:
    with unit_of_work(factory) as db:
        return list(db.scalars(select(AuditEvent.actor).order_by(AuditEvent.seq)))


def test_concurrent_callers_each_return_after_their_event_is_committed(
    factory: sessionmaker[Session],
) -> None:
    audit_log = AuditQueue(factory)

    def call(number: int) -> bool:
        audit_log.record(entry(number, n=number))
        with unit_of_work(factory) as db:  # another session sees it at once
            seen = db.scalar(select(func.count()).where(AuditEvent.actor == f"token:{number}"))
        return seen == 1

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(call, range(CALLERS)))

    assert sorted(committed_actors(factory)) == sorted(f"token:{n}" for n in range(CALLERS))
    with unit_of_work(factory) as db:
        result = verify_chain(db)
        seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert result.ok
    assert result.checked == CALLERS
    assert seqs == list(range(1, CALLERS + 1))


def test_a_batch_that_fails_is_reported_to_its_callers_and_writes_nothing(
    factory: sessionmaker[Session],
) -> None:
    audit_log = AuditQueue(factory)
    with pytest.raises(AuditUnavailable, match="could not be written"):
        audit_log.record(entry(1, unreadable=object()))  # details must be JSON
    assert committed_actors(factory) == []

    audit_log.record(entry(2))  # the writer goes on
    assert committed_actors(factory) == ["token:2"]


def test_events_recorded_together_chain_in_order(db: Session) -> None:
    events = record_many(db, [entry(n) for n in range(3)])
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert verify_chain(db).ok
