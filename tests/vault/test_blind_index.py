"""Blind indexes: keyed, stable, normalised, and different per kind."""

from __future__ import annotations

import re
import secrets

import pytest

from privacyops.errors import InvalidInput
from privacyops.vault.blind_index import blind_index, subject_hash

KEY = secrets.token_bytes(32)


def test_stable_and_normalised() -> None:
    first = blind_index(KEY, "email", "ann@example.com")
    assert first == blind_index(KEY, "email", "  Ann@Example.COM ")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert blind_index(KEY, "phone", "(212) 555-0123") == blind_index(KEY, "phone", "+12125550123")


def test_different_per_kind_and_per_key() -> None:
    value = "ABC123"
    assert blind_index(KEY, "loyalty_id", value) != blind_index(KEY, "device_id", value)
    other_key = secrets.token_bytes(32)
    assert blind_index(KEY, "loyalty_id", value) != blind_index(other_key, "loyalty_id", value)


def test_subject_hash_is_keyed_and_fits_the_audit_column() -> None:
    digest = subject_hash(KEY, "0b8f4a52-7c1e-4c7c-9a51-64b5f0a3c9aa")
    assert len(digest) == 64
    assert digest != subject_hash(secrets.token_bytes(32), "0b8f4a52-7c1e-4c7c-9a51-64b5f0a3c9aa")


def test_garbage_names_the_kind() -> None:
    with pytest.raises(InvalidInput, match=r"^phone: "):
        blind_index(KEY, "phone", "call me maybe")
    with pytest.raises(InvalidInput, match=r"^kind: unknown identity kind"):
        blind_index(KEY, "shoe_size", "9")
