"""Tampering with the audit log directly in the database (bypassing the ORM) is detected, and the
message names the event that was touched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.chain import event_hash
from privacyops.audit.service import record
from privacyops.audit.verify import verify_chain
from privacyops.db import make_engine, make_session_factory, unit_of_work
from privacyops.migrate import upgrade
from privacyops.models.types import UTCDateTime
from tests.vault.support import scratch_database

EVENTS = 10


@pytest.fixture
def chain(db: Session) -> Session:
    """Ten committed events, seq 1..10."""
    for n in range(1, EVENTS + 1):
        record(
            db,
            AuditAction.staff_login,
            actor=f"staff:{n}",
            target=f"staff:{n}",
            client="127.0.0.1",
            details={"n": n},
        )
    db.commit()
    return db


def sql(db: Session, statement: str, **params: Any) -> None:
    db.execute(text(statement), params)


def event_id(db: Session, seq: int) -> int:
    return int(
        db.execute(text("SELECT id FROM audit_events WHERE seq = :s"), {"s": seq}).scalar_one()
    )


def test_an_intact_chain_verifies(chain: Session) -> None:
    result = verify_chain(chain, batch_size=3)
    assert result.ok
    assert result.checked == EVENTS
    assert result.broken is None


def test_an_empty_log_verifies(db: Session) -> None:
    result = verify_chain(db)
    assert result.ok
    assert result.checked == 0


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_progress_reports_every_batch(chain: Session, batch_size: int) -> None:
    seen: list[tuple[int, int]] = []
    verify_chain(
        chain, batch_size=batch_size, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (EVENTS, EVENTS)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_edited_actor_is_named(chain: Session) -> None:
    sql(chain, "UPDATE audit_events SET actor = 'staff:666' WHERE seq = 4")
    broken = verify_chain(chain, batch_size=3).broken
    assert broken is not None
    assert (broken.seq, broken.id, broken.problem) == (4, event_id(chain, 4), "edited")
    assert broken.message == "event 4 was edited: its hash does not match its content"


def test_edited_details_is_named(chain: Session) -> None:
    statement = text("UPDATE audit_events SET details = :d WHERE seq = 7").bindparams(
        bindparam("d", type_=JSON())
    )
    chain.execute(statement, {"d": {"n": 70}})
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (7, "edited")


def test_edited_time_is_named(chain: Session) -> None:
    statement = text("UPDATE audit_events SET at = :at WHERE seq = 2").bindparams(
        bindparam("at", type_=UTCDateTime())
    )
    chain.execute(statement, {"at": datetime(2020, 1, 1, tzinfo=UTC)})
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (2, "edited")


def test_deleted_middle_row_is_named(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events WHERE seq = 5")
    result = verify_chain(chain, batch_size=2)
    assert result.broken is not None
    assert (result.broken.seq, result.broken.id, result.broken.problem) == (5, None, "missing")
    assert result.broken.message == "event 5 is missing (deleted?)"
    assert result.checked == 4


def test_several_deleted_rows_are_named_as_a_range(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events WHERE seq IN (3, 4, 5)")
    broken = verify_chain(chain).broken
    assert broken is not None
    assert broken.message == "events 3 to 5 are missing (deleted?)"


def test_deleted_first_row_is_named(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events WHERE seq = 1")
    broken = verify_chain(chain).broken
    assert broken is not None
    assert broken.message == "event 1 is missing (deleted?)"


def test_deleted_last_rows_break_the_head(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events WHERE seq >= 9")
    result = verify_chain(chain)
    assert result.broken is not None
    assert (result.broken.seq, result.broken.problem) == (9, "truncated")
    assert result.broken.message == (
        "the log ends at event 8 but the chain head says 10: the last events were deleted"
    )
    assert result.checked == 8


def test_every_row_deleted_breaks_the_head(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events")
    broken = verify_chain(chain).broken
    assert broken is not None
    assert broken.message.startswith("the log is empty but the chain head says 10")


def test_deleted_head_is_noticed(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_chain_head")
    broken = verify_chain(chain).broken
    assert broken is not None
    assert "chain head is missing" in broken.message


def test_swapped_seq_values_are_out_of_order(chain: Session) -> None:
    a, b = event_id(chain, 3), event_id(chain, 6)
    sql(chain, "UPDATE audit_events SET seq = -1 WHERE id = :a", a=a)
    sql(chain, "UPDATE audit_events SET seq = 3 WHERE id = :b", b=b)
    sql(chain, "UPDATE audit_events SET seq = 6 WHERE id = :a", a=a)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.id, broken.problem) == (3, b, "out_of_order")
    assert broken.message.startswith("events out of order at 3")


def test_swapped_neighbours_are_out_of_order(chain: Session) -> None:
    a, b = event_id(chain, 1), event_id(chain, 2)
    sql(chain, "UPDATE audit_events SET seq = -1 WHERE id = :a", a=a)
    sql(chain, "UPDATE audit_events SET seq = 1 WHERE id = :b", b=b)
    sql(chain, "UPDATE audit_events SET seq = 2 WHERE id = :a", a=a)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (1, "out_of_order")


CONTENT = "at, actor, action, subject, target, client, details, prev_hash, hash"


def read_content(db: Session, seq: int, extra: str = "") -> dict[str, Any]:
    query = text(f"SELECT {extra}{CONTENT} FROM audit_events WHERE seq = :s").columns(
        at=UTCDateTime(), details=JSON()
    )
    return dict(db.execute(query, {"s": seq}).one()._asdict())


def test_swapped_content_is_out_of_order(chain: Session) -> None:
    """Two rows keep their id and seq but exchange everything else."""
    columns = [c.strip() for c in CONTENT.split(",")]
    rows = {seq: read_content(chain, seq) for seq in (4, 8)}
    for seq, other in ((4, 8), (8, 4)):
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        statement = text(f"UPDATE audit_events SET {assignments} WHERE seq = :seq").bindparams(
            bindparam("at", type_=UTCDateTime()), bindparam("details", type_=JSON())
        )
        chain.execute(statement, {**rows[other], "seq": seq})
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (4, "out_of_order")


def test_reordered_and_rehashed_rows_are_out_of_order(chain: Session) -> None:
    """Swap seq values and recompute both rows' own hashes for their new places."""
    a, b = event_id(chain, 5), event_id(chain, 6)
    sql(chain, "UPDATE audit_events SET seq = -1 WHERE id = :a", a=a)
    sql(chain, "UPDATE audit_events SET seq = 5 WHERE id = :b", b=b)
    sql(chain, "UPDATE audit_events SET seq = 6 WHERE id = :a", a=a)
    rehash(chain, 5)
    rehash(chain, 6)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (5, "out_of_order")


def rehash(db: Session, seq: int) -> None:
    """What a forger with database access can do: recompute one row's hash from its content."""
    fields = read_content(db, seq, "seq, ")
    fields.pop("hash")
    digest = event_hash(**fields)
    sql(db, "UPDATE audit_events SET hash = :h WHERE seq = :s", h=digest, s=seq)


def test_forged_row_with_recomputed_hash_is_named(chain: Session) -> None:
    """The forger re-hashes the edited row but cannot fix the next row's link without the rest."""
    sql(chain, "UPDATE audit_events SET actor = 'staff:666' WHERE seq = 6")
    rehash(chain, 6)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.id, broken.problem) == (6, event_id(chain, 6), "rewritten")
    assert broken.message == (
        "event 6 was rewritten: its hash was recomputed, but event 7 still links to the original"
    )


def test_forged_last_row_is_caught_by_the_head(chain: Session) -> None:
    sql(chain, "UPDATE audit_events SET actor = 'staff:666' WHERE seq = 10")
    rehash(chain, 10)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (10, "head_mismatch")


def test_forged_first_row_is_named(chain: Session) -> None:
    sql(chain, "UPDATE audit_events SET prev_hash = :h WHERE seq = 1", h="f" * 64)
    rehash(chain, 1)
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (1, "unchained")


def test_row_appended_past_the_head_is_named(chain: Session) -> None:
    sql(
        chain,
        "INSERT INTO audit_events (seq, at, actor, action, details, prev_hash, hash) "
        "SELECT 11, at, actor, action, details, hash, hash FROM audit_events WHERE seq = 10",
    )
    broken = verify_chain(chain).broken
    assert broken is not None
    assert (broken.seq, broken.problem) == (11, "unchained")


def test_events_recorded_after_a_break_do_not_hide_it(chain: Session) -> None:
    sql(chain, "DELETE FROM audit_events WHERE seq = 10")
    record(chain, AuditAction.audit_viewed, actor="staff:1")
    broken = verify_chain(chain).broken
    assert broken is not None
    assert broken.message == "event 10 is missing (deleted?)"


# --- two writers at once never fork the chain -----------------------------------------------


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own: the writers commit for real, so they must not share the test DB."""
    with scratch_database(tmp_path, "chain") as url:
        upgrade(url)
        yield url


def test_concurrent_writers_never_fork_the_chain(scratch_url: str) -> None:
    engine = make_engine(scratch_url)
    factory = make_session_factory(engine)
    per_writer = 25
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(per_writer):
                with unit_of_work(factory) as session:
                    record(
                        session, AuditAction.staff_login, actor=f"staff:{writer}", details={"n": n}
                    )
        except BaseException as exc:  # reported below, on the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with unit_of_work(factory) as session:
            result = verify_chain(session, batch_size=7)
            actors = session.execute(text("SELECT actor FROM audit_events")).scalars().all()
        assert result.ok, result.broken
        assert result.checked == 2 * per_writer
        assert sorted(set(actors)) == ["staff:1", "staff:2"]
    finally:
        engine.dispose()
