"""One conformance test for every key store: memory, SQLite, and PostgreSQL when testing on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from privacyops.errors import Conflict
from privacyops.vault.keystore import KeyStore, MemoryKeyStore, SqlKeyStore, WrappedKey
from tests.vault.support import on_postgres, scratch_database

KINDS = ["memory", "sqlite", *(["postgresql"] if on_postgres() else [])]


@pytest.fixture(params=KINDS)
def keystore(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield MemoryKeyStore()
    elif request.param == "sqlite":
        store = SqlKeyStore(f"sqlite:///{(tmp_path / 'keystore.db').as_posix()}")
        yield store
        store.close()
    else:
        with scratch_database(tmp_path, "keystore") as url:
            store = SqlKeyStore(url)
            yield store
            store.close()


def key(subject: str, key_id: str = "k1", fill: int = 1) -> WrappedKey:
    return WrappedKey(subject, key_id, bytes([fill]) * 60)


def test_key_store_conformance(keystore: KeyStore) -> None:
    assert keystore.get("s1") is None
    for n in range(1, 6):
        keystore.put(key(f"s{n}", fill=n))
    assert keystore.get("s3") == key("s3", fill=3)
    with pytest.raises(Conflict, match="already has a data key"):
        keystore.put(key("s3", fill=9))
    assert keystore.get("s3") == key("s3", fill=3)
    assert keystore.count_by_key() == {"k1": 5}

    # Rotation: select by key id in subject order, swap only rows still holding the old wrapping.
    batch = keystore.not_under("k2", limit=2)
    assert [k.subject_id for k in batch] == ["s1", "s2"]
    keystore.delete("s2")  # shredded between selection and swap: must not come back
    changed = keystore.replace_many([(old, key(old.subject_id, "k2", 7)) for old in batch])
    assert changed == 1
    assert keystore.get("s1") == key("s1", "k2", 7)
    assert keystore.get("s2") is None
    assert [k.subject_id for k in keystore.not_under("k2", limit=10)] == ["s3", "s4", "s5"]
    assert keystore.count_by_key() == {"k1": 3, "k2": 1}

    keystore.delete("s4")
    keystore.delete("s4")  # idempotent
    assert keystore.get("s4") is None
    assert keystore.count_by_key() == {"k1": 2, "k2": 1}


def test_sqlite_store_is_private_and_opens_again(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keystore.db"
    store = SqlKeyStore(f"sqlite:///{path.as_posix()}")
    store.put(key("s1"))
    store.close()
    assert path.stat().st_mode & 0o077 == 0
    reopened = SqlKeyStore(f"sqlite:///{path.as_posix()}")
    assert reopened.get("s1") == key("s1")
    reopened.close()
