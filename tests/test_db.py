"""The embedded database under concurrent requests: a transaction that reads and then writes
must not fail because another one wrote in between (SQLite's deferred BEGIN would)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from privacyops.db import BUSY_SECONDS, make_engine, make_session_factory, reading, unit_of_work
from tests.vault.support import scratch_database

WORKERS, ROUNDS = 8, 25


def test_concurrent_read_then_write_units_of_work_all_commit(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "concurrency") as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as db:
            db.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
            db.execute(text("INSERT INTO tally (n) VALUES (0)"))

        def add_one(_: int) -> int:
            with unit_of_work(factory) as db:
                seen = db.execute(text("SELECT n FROM tally")).scalar_one()  # a reader first
                db.execute(text("UPDATE tally SET n = n + 1"))
                return int(seen)

        with ThreadPoolExecutor(WORKERS) as pool:
            seen = list(pool.map(add_one, range(WORKERS * ROUNDS)))

        with unit_of_work(factory) as db:
            assert db.execute(text("SELECT n FROM tally")).scalar_one() == WORKERS * ROUNDS
        assert len(seen) == WORKERS * ROUNDS
        engine.dispose()


def test_a_long_read_does_not_keep_writers_waiting(tmp_path: Path) -> None:
    """A streamed export or bulk filter reads in `reading`: a write meanwhile goes through
    (and the reader keeps the snapshot it began with)."""
    with scratch_database(tmp_path, "reader") as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as db:
            db.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
            db.execute(text("INSERT INTO tally (n) VALUES (0)"))

        def write() -> None:
            with unit_of_work(factory) as db:
                db.execute(text("UPDATE tally SET n = 1"))

        with reading(factory) as reader:
            assert reader.execute(text("SELECT n FROM tally")).scalar_one() == 0
            with ThreadPoolExecutor(1) as pool:
                pool.submit(write).result(timeout=BUSY_SECONDS / 2)  # not queued behind us
            assert reader.execute(text("SELECT n FROM tally")).scalar_one() == 0
        with unit_of_work(factory) as db:
            assert db.execute(text("SELECT n FROM tally")).scalar_one() == 1
        engine.dispose()
