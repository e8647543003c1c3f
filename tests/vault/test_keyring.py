"""The key ring: created on first start, validated without echoing key material."""

from __future__ import annotations

import base64
import json
import secrets
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from privacyops.settings import Settings
from privacyops.vault.keyring import KeyRingError, keyring_path, load_keyring
from privacyops.vault.setup import ensure_keyring


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def configured(tmp_path: Path, ring: dict[str, object]) -> Settings:
    return Settings(data_dir=tmp_path, vault_keyring=SecretStr(json.dumps(ring)))


def test_first_start_creates_a_private_file_and_says_so(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    message = ensure_keyring(settings)
    assert message is not None
    assert str(keyring_path(settings)) in message
    assert "PRIVACYOPS_VAULT_KEYRING" in message
    assert "separately from database backups" in message
    assert stat.S_IMODE(keyring_path(settings).stat().st_mode) == 0o600
    ring = load_keyring(settings)
    assert list(ring.keys) == [ring.active_id]
    assert len(ring.active_key) == 32
    assert len(ring.index_key) == 32
    assert ensure_keyring(settings) is None
    assert load_keyring(settings) == ring
    assert ring.active_id in repr(ring)
    assert b64(ring.active_key) not in repr(ring)


def test_configured_ring_wins_and_no_file_is_made(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    settings = configured(
        tmp_path, {"active": "a1", "keys": {"a1": b64(key)}, "index_key": b64(key[::-1])}
    )
    assert ensure_keyring(settings) is None
    assert not keyring_path(settings).exists()
    ring = load_keyring(settings)
    assert (ring.active_id, ring.active_key, ring.source) == ("a1", key, "PRIVACYOPS_VAULT_KEYRING")


SHORT = b64(b"sixteen byte key")
GOOD = b64(b"k" * 32)


@pytest.mark.parametrize(
    ("ring", "expected"),
    [
        ({"active": "a1", "keys": {"a1": SHORT}, "index_key": GOOD}, "keys: key 'a1': must decode"),
        ({"active": "a1", "keys": {"a1": "not base64!"}, "index_key": GOOD}, "not valid base64"),
        ({"active": "a2", "keys": {"a1": GOOD}, "index_key": GOOD}, "active key 'a2' is not"),
        ({"active": "a1", "keys": {"a1": GOOD}, "index_key": SHORT}, "index_key: must decode"),
        ({"active": "a1", "keys": {}, "index_key": GOOD}, "at least one key"),
        ({"active": "a.1", "keys": {"a.1": GOOD}, "index_key": GOOD}, "key id 'a.1' must be"),
        ({"active": "subject", "keys": {"subject": GOOD}, "index_key": GOOD}, "key id 'subject'"),
        ({"keys": {"a1": GOOD}, "index_key": GOOD}, "active: Field required"),
    ],
)
def test_invalid_rings_name_the_problem_not_the_keys(
    tmp_path: Path, ring: dict[str, object], expected: str
) -> None:
    with pytest.raises(KeyRingError) as caught:
        load_keyring(configured(tmp_path, ring))
    message = caught.value.message
    assert message.startswith("invalid vault key ring (PRIVACYOPS_VAULT_KEYRING): ")
    assert expected in message
    for secret in (SHORT, GOOD, "not base64!"):
        assert secret not in message


def test_broken_json_is_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, vault_keyring=SecretStr('{"active": "a1", "keys": '))
    with pytest.raises(KeyRingError, match=r"invalid vault key ring .*JSON"):
        load_keyring(settings)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="run `privacyops setup`"):
        load_keyring(Settings(data_dir=tmp_path))


def test_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ensure_keyring(settings)
    keyring_path(settings).chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        load_keyring(settings)
