"""Engine and sessions. The request or job that opens a session commits it; services never do."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


BUSY_SECONDS = 5.0  # how long a SQLite transaction waits for the writer before it, at most
_HOLDS_GATE = "privacyops.holds_writer_gate"
_READER = "privacyops_reader"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        gate = _WriterGate()
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", gate.begin)
        event.listen(engine.pool, "checkin", gate.end)
        event.listen(engine.pool, "invalidate", gate.end)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 driver opens transactions lazily and never for SAVEPOINTs, so a savepoint's
    # release would commit for real. Turn its handling off and let SQLAlchemy emit BEGIN.
    dbapi_connection.isolation_level = None
    # WAL lets the web server read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
    cursor.close()


class _WriterGate:
    """One transaction at a time per engine (SQLite has one writer), queued in this process.

    Transactions begin IMMEDIATE, taking the write lock up front: a deferred BEGIN that reads
    and then writes fails at once with "database is locked" when another connection committed
    in between (its WAL snapshot is too old; busy_timeout does not apply), and nearly every
    request here writes (an audit event at least). https://www.sqlite.org/lang_transaction.html
    Waiting on SQLite's busy handler would poll with sleeps of up to 100 ms; threads of this
    process wait on a lock instead, in turn, and only other processes (the CLI, a worker) meet
    the busy handler.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Connection) -> None:
        # Held from the first BEGIN until the connection goes back to the pool, after its
        # COMMIT or ROLLBACK ran (the engine's commit event fires before them).
        if connection.get_execution_options().get(_READER):
            connection.exec_driver_sql("BEGIN")  # a snapshot; writers go on meanwhile (WAL)
            return
        info = connection.info
        if not info.get(_HOLDS_GATE):
            if not self._lock.acquire(timeout=BUSY_SECONDS):
                locked = sqlite3.OperationalError("database is locked")
                raise OperationalError("BEGIN IMMEDIATE", None, locked)
            info[_HOLDS_GATE] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def end(self, _dbapi_connection: Any, record: Any, *_: Any) -> None:
        if record is not None and record.info.pop(_HOLDS_GATE, False):
            self._lock.release()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends without error and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def reading(factory: sessionmaker[Session], *, snapshot: bool = True) -> Iterator[Session]:
    """A session that only reads, for long reads (streamed exports, bulk filters): one
    consistent snapshot, and on SQLite no write lock, so requests that write are not kept
    waiting. Writing in it may fail ("database is locked"); it is never committed. Without
    `snapshot`, PostgreSQL reads at its default level (no round trips to set one): for a few
    quick reads."""
    session = factory()
    try:
        options: dict[str, Any] = {_READER: True}
        bind = session.get_bind()
        # READ COMMITTED would move per statement. A session joined to a connection's
        # transaction (tests) keeps that transaction's level.
        if snapshot and isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        session.connection(execution_options=options)
        yield session
    finally:
        session.close()
