"""The key store: each data subject's data key, wrapped by the key ring, outside the main database.

Why a separate store: the main database, and every backup of it, holds only ciphertext under
per-subject data keys. Deleting a subject's key here (crypto-shredding) makes every copy of
their data unreadable, backups included. That holds only if the key store is NOT backed up
together with the main database, or its backups expire sooner: keep key store backups short-lived
(a shredded key lives on in them until they expire) and never lose the store itself (losing it
loses every subject's data).

The SQLite store turns on `secure_delete`, so a deleted key's bytes are overwritten in the file,
and keeps the rollback journal (not WAL), so no copy lingers in a write-ahead log. On
PostgreSQL a deleted row stays on disk until VACUUM reclaims it, and in WAL archives until they
expire.

Write order (see `Vault.create_subject_key`): a key is committed here before the main
transaction that uses it; should that transaction roll back, the orphan key is harmless.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from privacyops.errors import Conflict
from privacyops.models.types import UTCDateTime, utcnow


@dataclass(frozen=True)
class WrappedKey:
    subject_id: str
    key_id: str
    wrapped: bytes

    def __repr__(self) -> str:
        return f"WrappedKey(subject_id={self.subject_id!r}, key_id={self.key_id!r})"


class KeyStore(Protocol):
    """Where wrapped subject keys live. Every method commits on its own."""

    def put(self, key: WrappedKey) -> None:
        """Store a new key; `Conflict` if the subject has one already."""

    def get(self, subject_id: str) -> WrappedKey | None: ...

    def delete(self, subject_id: str) -> None:
        """Forget the subject's key for good. Idempotent."""

    def not_under(self, key_id: str, limit: int) -> list[WrappedKey]:
        """Up to `limit` keys wrapped under another ring key than `key_id` (for rotation)."""

    def replace_many(self, pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
        """Swap each old wrapping for its new one in one transaction; returns rows changed.

        A key deleted (shredded) meanwhile is not brought back: only rows still holding the old
        wrapping change.
        """

    def count_by_key(self) -> dict[str, int]: ...

    def close(self) -> None: ...


class MemoryKeyStore:
    """In process memory: for tests and throwaway runs."""

    def __init__(self) -> None:
        self._keys: dict[str, WrappedKey] = {}
        self._lock = threading.Lock()

    def put(self, key: WrappedKey) -> None:
        with self._lock:
            if key.subject_id in self._keys:
                raise _exists(key.subject_id)
            self._keys[key.subject_id] = key

    def get(self, subject_id: str) -> WrappedKey | None:
        return self._keys.get(subject_id)

    def delete(self, subject_id: str) -> None:
        with self._lock:
            self._keys.pop(subject_id, None)

    def not_under(self, key_id: str, limit: int) -> list[WrappedKey]:
        found = sorted(
            (k for k in self._keys.values() if k.key_id != key_id), key=lambda k: k.subject_id
        )
        return found[:limit]

    def replace_many(self, pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
        changed = 0
        with self._lock:
            for old, new in pairs:
                if self._keys.get(old.subject_id) == old:
                    self._keys[old.subject_id] = new
                    changed += 1
        return changed

    def count_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key in self._keys.values():
            counts[key.key_id] = counts.get(key.key_id, 0) + 1
        return counts

    def close(self) -> None:
        return None


# Its own metadata, not the app's Base: the key store is another database, outside Alembic.
keystore_metadata = MetaData()
subject_keys = Table(
    "subject_keys",
    keystore_metadata,
    Column("subject_id", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


class SqlKeyStore:
    """A `subject_keys` table in a database of its own (SQLite file or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        keystore_metadata.create_all(self.engine)

    def put(self, key: WrappedKey) -> None:
        row = {
            "subject_id": key.subject_id,
            "key_id": key.key_id,
            "wrapped_key": key.wrapped,
            "created_at": utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(subject_keys).values(**row))
        except IntegrityError:
            raise _exists(key.subject_id) from None

    def get(self, subject_id: str) -> WrappedKey | None:
        query = select(subject_keys.c.subject_id, subject_keys.c.key_id, subject_keys.c.wrapped_key)
        with self.engine.connect() as conn:
            row = conn.execute(query.where(subject_keys.c.subject_id == subject_id)).first()
        return None if row is None else WrappedKey(row[0], row[1], bytes(row[2]))

    def delete(self, subject_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(subject_keys).where(subject_keys.c.subject_id == subject_id))

    def not_under(self, key_id: str, limit: int) -> list[WrappedKey]:
        query = (
            select(subject_keys.c.subject_id, subject_keys.c.key_id, subject_keys.c.wrapped_key)
            .where(subject_keys.c.key_id != key_id)
            .order_by(subject_keys.c.subject_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [WrappedKey(row[0], row[1], bytes(row[2])) for row in rows]

    def replace_many(self, pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
        changed = 0
        with self.engine.begin() as conn:
            for old, new in pairs:
                result = conn.execute(
                    update(subject_keys)
                    .where(subject_keys.c.subject_id == old.subject_id)
                    .where(subject_keys.c.key_id == old.key_id)
                    .where(subject_keys.c.wrapped_key == old.wrapped)
                    .values(key_id=new.key_id, wrapped_key=new.wrapped)
                )
                changed += result.rowcount
        return changed

    def count_by_key(self) -> dict[str, int]:
        query = select(subject_keys.c.key_id, func.count()).group_by(subject_keys.c.key_id)
        with self.engine.connect() as conn:
            return {str(key_id): int(count) for key_id, count in conn.execute(query).all()}

    def close(self) -> None:
        self.engine.dispose()


def _exists(subject_id: str) -> Conflict:
    return Conflict(f"subject {subject_id} already has a data key")


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        _create_private_file(Path(path))
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _create_private_file(path: Path) -> None:
    # Wrapped keys are ciphertext, but the file still deserves owner-only access.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Overwrite deleted content with zeros, so a shredded key leaves no bytes in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    # A rollback journal is removed after each commit; a WAL would keep old pages around.
    cursor.execute("PRAGMA journal_mode=DELETE")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
