"""Vault test helpers: a vault on the test's data_dir, scratch databases for committed data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from privacyops.db import make_engine
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from privacyops.vault.setup import ensure_keyring


def make_vault(settings: Settings) -> Vault:
    ensure_keyring(settings)
    return Vault.from_settings(settings)


def on_postgres() -> bool:
    return os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite") != "sqlite"


@contextmanager
def scratch_database(tmp_path: Path, name: str = "scratch") -> Iterator[str]:
    """An empty database of its own: a SQLite file, or a new database on the PostgreSQL server."""
    base = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    if base == "sqlite":
        yield f"sqlite:///{(tmp_path / f'{name}.db').as_posix()}"
        return
    database = f"privacyops_{name}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(base).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def checkpoint(engine: Engine, mode: str = "TRUNCATE") -> None:
    """Write SQLite's log into the main file. Outside any transaction: ours begin IMMEDIATE."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(f"PRAGMA wal_checkpoint({mode})")
    finally:
        raw.close()


def sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def files_of(path: Path) -> list[Path]:
    """A SQLite database file with its journal or write-ahead log, if any."""
    candidates = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal", "-shm"))]
    return [p for p in candidates if p.exists()]
