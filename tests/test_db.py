"""The embedded database under concurrent requests: a transaction that reads and then writes
must not fail because another one wrote in between (SQLite's deferred BEGIN would)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from privacyops.db import make_engine, make_session_factory, unit_of_work
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
