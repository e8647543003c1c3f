"""argon2id hashing and the password rules."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from privacyops.errors import InvalidInput
from privacyops.staff import passwords


def test_hash_is_argon2id_with_the_rfc_9106_low_memory_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())  # the production hasher

    hashed = passwords.hash_password("a long enough passphrase")

    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "a long enough passphrase" not in hashed
    assert passwords.verify(hashed, "a long enough passphrase")
    assert not passwords.verify(hashed, "a long enough passphrasE")
    assert not passwords.needs_rehash(hashed)


def test_garbage_hash_never_verifies() -> None:
    assert not passwords.verify("not a hash", "anything at all")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "must be at least 12 characters"),
        ("Ann@Example.com", "must not be the email address"),
        ("x" * 1025, "must be at most 1024 characters"),
    ],
)
def test_rules_reject(password: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        passwords.check(password, "ann@example.com")
    assert [(p.field, p.message) for p in caught.value.problems] == [("password", message)]
    assert password not in caught.value.message


def test_twelve_characters_that_are_not_the_email_pass() -> None:
    passwords.check("twelve chars", "ann@example.com")
