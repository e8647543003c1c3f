"""No plaintext identity, secret or key anywhere outside the vault: not in the main database,
not in the key store, not in the logs.

The data is committed to databases of their own (a SQLite file, or a scratch PostgreSQL
database) so that the scan sees what a thief of the disk or of a backup would see.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.db import make_engine, make_session_factory, unit_of_work
from privacyops.identity.normalize import normalize
from privacyops.identity.service import get_or_create_subject, reveal_identities
from privacyops.migrate import upgrade
from privacyops.settings import Settings
from privacyops.vault.secrets import get_secret, set_secret
from privacyops.vault.service import Vault
from tests.vault.support import checkpoint, files_of, make_vault, scratch_database, sqlite_path

SEEDED = [
    {"email": "Xylophone.Quokka@Example.org", "phone": "(415) 555-0173"},
    {"email": "zanzibar.wombat@example.net", "loyalty_id": "mbr-ZQX-90210"},
    {"phone": "+1 646 555 0111", "device_id": "F00DFACE-0000-4B1D-ABCD-DEADBEEF0001"},
]
SECRET = "connector-pa55word-Kv7Rq"


def plaintexts() -> set[str]:
    """Every value as typed and as normalised, plus distinctive fragments of them."""
    found = {SECRET}
    for identities in SEEDED:
        for kind, value in identities.items():
            found |= {value, normalize(kind, value)}
    found |= {"xylophone", "quokka", "zanzibar", "wombat", "ZQX-90210", "4155550173", "6465550111"}
    return found


def key_material(vault: Vault) -> set[bytes]:
    raw = [*vault.ring.keys.values(), vault.ring.index_key]
    return {*raw, *(base64.b64encode(k) for k in raw), *(k.hex().encode() for k in raw)}


@pytest.fixture
def main_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "plain") as url:
        upgrade(url)
        yield url


def seed(engine: Engine, vault: Vault) -> None:
    factory = make_session_factory(engine)
    for identities in SEEDED:
        with unit_of_work(factory) as db:
            subject, _ = get_or_create_subject(db, vault, identities)
            record(
                db,
                AuditAction.subject_created,
                actor="system",
                subject=vault.subject_hash(subject.id),
            )
        with unit_of_work(factory) as db:
            revealed = reveal_identities(db, vault, subject.id)
            assert len(revealed) == len(identities)
            record(
                db, AuditAction.subject_viewed, actor="cli", subject=vault.subject_hash(subject.id)
            )
    with unit_of_work(factory) as db:
        set_secret(db, vault, "connector:shop:password", SECRET)
    with unit_of_work(factory) as db:
        assert get_secret(db, vault, "connector:shop:password") == SECRET


def stored_values(engine: Engine, url: str) -> list[bytes]:
    """SQLite: the raw bytes of the files. PostgreSQL: every text, bytea and json value."""
    if url.startswith("sqlite"):
        checkpoint(engine, "PASSIVE")
        return [path.read_bytes() for path in files_of(sqlite_path(url))]
    values: list[bytes] = []
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                kind = str(column["type"]).lower()
                if not any(t in kind for t in ("char", "text", "json", "bytea", "binary")):
                    continue
                query = text(f'SELECT "{column["name"]}" FROM "{table}"')
                for value in conn.execute(query).scalars():
                    if value is None:
                        continue
                    values.append(
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
    assert values, "the scan found nothing to scan"
    return values


def test_no_plaintext_outside_the_vault(
    main_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # SQL statements and their parameters are logged too
    settings = Settings(data_dir=tmp_path / "var", database_url=main_url)
    engine = make_engine(main_url, echo=True)
    with make_vault(settings) as vault:
        seed(engine, vault)
        haystacks = stored_values(engine, main_url)
        keystore_file = settings.data_dir / "keystore.db"
        haystacks += [path.read_bytes() for path in files_of(keystore_file)]
        keys = key_material(vault)
    engine.dispose()

    assert any(b"subject_identities" in h for h in haystacks) or not main_url.startswith("sqlite")
    assert (
        "subject_identities" in caplog.text
    )  # the SQL log was captured, so the check means something
    for needle in plaintexts():
        encoded = needle.encode()
        for haystack in haystacks:
            assert encoded not in haystack, f"{needle!r} found in the database"
            assert encoded.lower() not in haystack.lower(), f"{needle!r} found in the database"
        assert needle.lower() not in caplog.text.lower(), f"{needle!r} found in the log"
    for material in keys:
        for haystack in haystacks:
            assert material not in haystack, "key material found in the database"
        assert material.decode("latin-1") not in caplog.text, "key material found in the log"
