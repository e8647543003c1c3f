"""AES-256-GCM tokens: round trip, context binding, tampering, unknown and relabelled keys."""

from __future__ import annotations

import base64
import secrets

import pytest

from privacyops.vault import crypto
from privacyops.vault.crypto import DecryptionFailed, MalformedCiphertext
from privacyops.vault.keyring import KeyRing, UnknownKey
from privacyops.vault.keystore import MemoryKeyStore
from privacyops.vault.service import Vault

CONTEXT = "vault_secrets:smtp-password"


def ring(*key_ids: str) -> KeyRing:
    keys = {key_id: secrets.token_bytes(32) for key_id in key_ids}
    return KeyRing(key_ids[-1], keys, secrets.token_bytes(32), source="test")


def memory_vault(key_ring: KeyRing) -> Vault:
    return Vault(key_ring, MemoryKeyStore())


def test_round_trip_and_token_format() -> None:
    vault = memory_vault(ring("k1"))
    token = vault.encrypt_secret("hunter2 ünïcode", CONTEXT)
    version, key_id, body = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    assert "hunter2" not in token
    assert len(base64.urlsafe_b64decode(body + "==")) == 12 + len("hunter2 ünïcode".encode()) + 16
    assert vault.decrypt_secret(token, CONTEXT) == "hunter2 ünïcode"


def test_each_encryption_takes_a_fresh_nonce() -> None:
    vault = memory_vault(ring("k1"))
    assert vault.encrypt_secret("same", CONTEXT) != vault.encrypt_secret("same", CONTEXT)


def test_wrong_context_fails() -> None:
    vault = memory_vault(ring("k1"))
    token = vault.encrypt_secret("value", "vault_secrets:a")
    with pytest.raises(DecryptionFailed, match="another context"):
        vault.decrypt_secret(token, "vault_secrets:b")


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1])
def test_tampered_ciphertext_fails(position: int) -> None:
    vault = memory_vault(ring("k1"))
    token = vault.encrypt_secret("value", CONTEXT)
    key_ref, sealed = crypto.parse_token(token)
    altered = bytearray(sealed)
    altered[position] ^= 0x01
    body = base64.urlsafe_b64encode(bytes(altered)).rstrip(b"=").decode()
    with pytest.raises(DecryptionFailed):
        vault.decrypt_secret(f"v1.{key_ref}.{body}", CONTEXT)


def test_relabelled_key_id_fails() -> None:
    # Both keys in the ring: moving a ciphertext to another key id must not "just work".
    key_ring = ring("k1", "k2")
    key_ring.keys["k1"] = key_ring.keys["k2"]
    vault = memory_vault(key_ring)
    token = vault.encrypt_secret("value", CONTEXT)
    assert token.startswith("v1.k2.")
    with pytest.raises(DecryptionFailed):
        vault.decrypt_secret("v1.k1." + token.split(".")[2], CONTEXT)


def test_unknown_key_id_is_a_clear_error() -> None:
    token = memory_vault(ring("old")).encrypt_secret("value", CONTEXT)
    with pytest.raises(UnknownKey) as caught:
        memory_vault(ring("new")).decrypt_secret(token, CONTEXT)
    assert "'old'" in caught.value.message
    assert "not in the key ring" in caught.value.message


@pytest.mark.parametrize(
    "token", ["", "plain text", "v1.k1", "v2.k1.AAAA", "v1..AAAA", "v1.k1.!!!!", "v1.k1.AAAA"]
)
def test_garbage_is_refused_cleanly(token: str) -> None:
    vault = memory_vault(ring("k1"))
    with pytest.raises((MalformedCiphertext, DecryptionFailed)):
        vault.decrypt_secret(token, CONTEXT)


def test_subject_and_ring_tokens_do_not_mix() -> None:
    vault = memory_vault(ring("k1"))
    vault.create_subject_key("s1")
    subject_token = vault.encrypt_for_subject("s1", "value", "ctx")
    assert subject_token.startswith("v1.subject.")
    with pytest.raises(MalformedCiphertext):
        vault.decrypt_secret(subject_token, "ctx")
    with pytest.raises(MalformedCiphertext):
        vault.decrypt_for_subject("s1", vault.encrypt_secret("value", "ctx"), "ctx")
