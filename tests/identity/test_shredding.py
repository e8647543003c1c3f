"""Crypto-shredding reaches backups: after the subject's key is erased, a backup of the main
database taken before still holds their ciphertexts, and nothing the system has can open them.

Committed data in a database of its own (a SQLite file, or a scratch PostgreSQL database), so
that the backup is real: a copy of the file, or every row of every table read into memory.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text
from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import make_engine, make_session_factory, unit_of_work
from privacyops.identity.service import (
    find_subject,
    get_or_create_subject,
    identity_context,
    shred_subject,
)
from privacyops.migrate import upgrade
from privacyops.settings import Settings
from privacyops.vault import crypto
from privacyops.vault.crypto import DecryptionFailed
from privacyops.vault.service import SubjectShredded, Vault, unwrap_key
from tests.vault.support import checkpoint, files_of, make_vault, scratch_database, sqlite_path

EMAIL, PHONE = "shred.me@example.com", "+13125550142"


@pytest.fixture
def main_database(tmp_path: Path) -> Iterator[tuple[str, Engine, sessionmaker[Session]]]:
    with scratch_database(tmp_path, "main") as url:
        upgrade(url)
        engine = make_engine(url)
        yield url, engine, make_session_factory(engine)
        engine.dispose()


def take_backup(url: str, engine: Engine, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """SQLite: copy the file (after a checkpoint) and read the copy. PostgreSQL: read every row."""
    source = engine
    if url.startswith("sqlite"):
        checkpoint(engine)
        copy = tmp_path / "backup.db"
        shutil.copyfile(sqlite_path(url), copy)
        source = make_engine(f"sqlite:///{copy.as_posix()}")
    metadata = MetaData()
    metadata.reflect(source)
    with source.connect() as conn:
        backup = {
            name: [dict(row._mapping) for row in conn.execute(select(table))]
            for name, table in metadata.tables.items()
        }
    if source is not engine:
        source.dispose()
    return backup


def every_data_key(vault: Vault) -> list[bytes]:
    everything = vault.keystore.not_under("no such key", limit=1_000_000)
    return [unwrap_key(vault.ring, stored) for stored in everything]


def test_shredded_data_is_unreadable_in_backups_too(
    main_database: tuple[str, Engine, sessionmaker[Session]], tmp_path: Path
) -> None:
    url, engine, factory = main_database
    settings = Settings(data_dir=tmp_path / "var", database_url=url)
    keystore_file = settings.data_dir / "keystore.db"
    with make_vault(settings) as vault:
        with unit_of_work(factory) as db:
            subject, _ = get_or_create_subject(db, vault, {"email": EMAIL, "phone": PHONE})
            other, _ = get_or_create_subject(db, vault, {"email": "stays@example.com"})
        stored = vault.keystore.get(subject.id)
        assert stored is not None
        assert stored.wrapped in keystore_file.read_bytes()  # the check below can see it

        backup = take_backup(url, engine, tmp_path)
        rows = {r["kind"]: r for r in backup["subject_identities"] if r["subject_id"] == subject.id}
        assert set(rows) == {"email", "phone"}

        with unit_of_work(factory) as db:
            shred_subject(db, vault, subject.id)

        # (a) the identities can no longer be looked up
        with unit_of_work(factory) as db:
            assert find_subject(db, vault, "email", EMAIL) is None
            assert find_subject(db, vault, "phone", PHONE) is None

        # (b) the vault refuses, in this process and in a fresh one (no cache)
        with Vault.from_settings(settings) as fresh:
            for candidate in (vault, fresh):
                for row in rows.values():
                    with pytest.raises(SubjectShredded):
                        candidate.decrypt_for_subject(
                            subject.id, row["ciphertext"], identity_context(row["id"], row["kind"])
                        )

        # (c) no ring key and no remaining data key opens the backup's ciphertexts
        candidates = [*vault.ring.keys.values(), vault.ring.index_key, *every_data_key(vault)]
        assert len(candidates) == len(vault.ring.keys) + 2  # the other subject's key remains
        for row in rows.values():
            context = f"subject:{subject.id}|{identity_context(row['id'], row['kind'])}"
            for key in candidates:
                with pytest.raises(DecryptionFailed):
                    crypto.decrypt_token(row["ciphertext"], lambda _ref, k=key: k, context)
        # ... while the other subject's data in the same backup still reads (a control)
        kept = next(r for r in backup["subject_identities"] if r["subject_id"] == other.id)
        context = identity_context(kept["id"], kept["kind"])
        assert vault.decrypt_for_subject(other.id, kept["ciphertext"], context) == (
            "stays@example.com"
        )

        # (d) the wrapped key's bytes are gone from the key store's files
        assert vault.keystore.get(subject.id) is None
        for path in files_of(keystore_file):
            assert stored.wrapped not in path.read_bytes(), path
        assert stored.wrapped[:16] not in keystore_file.read_bytes()

    # The subject row stays, marked, with nothing personal in it.
    with engine.connect() as conn:
        shredded_at = conn.execute(
            text("SELECT shredded_at FROM data_subjects WHERE id = :id"), {"id": subject.id}
        ).scalar()
    assert shredded_at is not None
