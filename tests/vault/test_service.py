"""The vault facade: per-subject data, shredding, the key cache, platform secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privacyops.errors import Conflict, NotFound
from privacyops.settings import Settings
from privacyops.vault.crypto import DecryptionFailed
from privacyops.vault.keyring import KeyRingError
from privacyops.vault.keystore import MemoryKeyStore
from privacyops.vault.secrets import get_secret, set_secret
from privacyops.vault.service import KeyCache, SubjectShredded, Vault
from privacyops.vault.setup import ensure_keyring


def test_subject_data_round_trip_and_binding(vault: Vault) -> None:
    vault.create_subject_key("s1")
    vault.create_subject_key("s2")
    token = vault.encrypt_for_subject("s1", "ann@example.com", "requests.details:7")
    assert "ann" not in token
    assert vault.decrypt_for_subject("s1", token, "requests.details:7") == "ann@example.com"
    with pytest.raises(DecryptionFailed):
        vault.decrypt_for_subject("s1", token, "requests.details:8")
    with pytest.raises(DecryptionFailed):
        vault.decrypt_for_subject("s2", token, "requests.details:7")


def test_a_subject_has_one_key(vault: Vault) -> None:
    vault.create_subject_key("s1")
    with pytest.raises(Conflict):
        vault.create_subject_key("s1")


def test_shredding_makes_data_unreadable_and_no_new_key_appears(settings: Settings) -> None:
    ensure_keyring(settings)
    with Vault.from_settings(settings) as vault:
        vault.create_subject_key("s1")
        token = vault.encrypt_for_subject("s1", "secret", "ctx")
        vault.shred("s1")
        vault.shred("s1")  # idempotent
        with pytest.raises(SubjectShredded, match="crypto-shredded"):
            vault.decrypt_for_subject("s1", token, "ctx")
        with pytest.raises(SubjectShredded):
            vault.encrypt_for_subject("s1", "new data", "ctx")
    # A fresh process (no cache) cannot read it either.
    with Vault.from_settings(settings) as fresh, pytest.raises(SubjectShredded):
        fresh.decrypt_for_subject("s1", token, "ctx")


def test_keys_are_read_through_the_cache(vault: Vault) -> None:
    vault.create_subject_key("s1")
    token = vault.encrypt_for_subject("s1", "x", "ctx")
    store = MemoryKeyStore()  # an empty store: only the cache can answer
    cached = Vault(vault.ring, store, vault._cache)
    assert cached.decrypt_for_subject("s1", token, "ctx") == "x"
    cached.shred("s1")  # evicts: the empty store is asked again, and has nothing
    with pytest.raises(SubjectShredded):
        cached.decrypt_for_subject("s1", token, "ctx")


def test_key_cache_is_bounded_and_brief() -> None:
    now = [0.0]
    cache = KeyCache(size=2, seconds=60, clock=lambda: now[0])
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"  # a is now the most recent
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"A", None, b"C")
    now[0] = 61.0
    assert cache.get("a") is None
    assert len(cache) == 1


def test_key_store_must_not_be_the_main_database(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'one.db').as_posix()}"
    settings = Settings(data_dir=tmp_path, database_url=url, keystore_url=url)
    ensure_keyring(settings)
    with pytest.raises(KeyRingError, match="another database"):
        Vault.from_settings(settings)


def test_platform_secrets(db: Session, vault: Vault) -> None:
    stored = set_secret(db, vault, "connector:shop:password", "s3cr3t-pa55")
    assert stored.key_id == vault.ring.active_id
    assert "s3cr3t" not in stored.ciphertext
    assert get_secret(db, vault, "connector:shop:password") == "s3cr3t-pa55"
    set_secret(db, vault, "connector:shop:password", "changed")
    assert get_secret(db, vault, "connector:shop:password") == "changed"
    with pytest.raises(NotFound, match="no secret named 'missing'"):
        get_secret(db, vault, "missing")


def test_a_secret_copied_under_another_name_does_not_decrypt(db: Session, vault: Vault) -> None:
    first = set_secret(db, vault, "a", "value-a")
    second = set_secret(db, vault, "b", "value-b")
    second.ciphertext = first.ciphertext
    db.flush()
    with pytest.raises(DecryptionFailed):
        get_secret(db, vault, "b")
