"""Key rotation, interrupted and resumed; then the old key can go and everything still reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.errors import PrivacyOpsError
from privacyops.models.vault import VaultSecret
from privacyops.settings import Settings
from privacyops.vault import keyring, repository, rotation
from privacyops.vault.secrets import get_secret, set_secret
from privacyops.vault.service import Vault
from tests.vault.support import make_vault

SUBJECTS = 7
SECRETS = 5


class Interrupted(Exception):
    pass


def seed(db: Session, vault: Vault) -> dict[str, str]:
    """Subject keys with some data under them, and platform secrets; returns subject tokens."""
    tokens = {}
    for n in range(SUBJECTS):
        subject = f"subject-{n}"
        vault.create_subject_key(subject)
        tokens[subject] = vault.encrypt_for_subject(subject, f"data of {subject}", "ctx")
    for n in range(SECRETS):
        set_secret(db, vault, f"secret-{n}", f"value {n}")
    db.commit()
    return tokens


def interrupt_at(batch: int) -> Callable[[int], None]:
    calls = []

    def on_batch(done: int) -> None:
        calls.append(done)
        if len(calls) == batch:
            raise Interrupted

    return on_batch


def secret_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as db:
        return repository.count_secrets_by_key(db)


# Batches of 2: subject keys take batches 1-4 (2+2+2+1), secrets batches 5-7 (2+2+1).
@pytest.mark.parametrize(
    ("stop_after", "keys_moved", "secrets_moved"), [(1, 2, 0), (5, SUBJECTS, 2)]
)
def test_rotation_interrupted_then_resumed(
    settings: Settings,
    db: Session,
    session_factory: sessionmaker[Session],
    stop_after: int,
    keys_moved: int,
    secrets_moved: int,
) -> None:
    with make_vault(settings) as before:
        old = before.ring.active_id
        tokens = seed(db, before)
    new = keyring.add_active_key(settings)
    with Vault.from_settings(settings) as vault:
        assert vault.ring.active_id == new
        assert rotation.plan(vault, session_factory).total == SUBJECTS + SECRETS
        with pytest.raises(Interrupted):
            rotation.rotate(vault, session_factory, batch_size=2, on_batch=interrupt_at(stop_after))
        assert vault.keystore.count_by_key() == {
            new: keys_moved,
            **({old: SUBJECTS - keys_moved} if keys_moved < SUBJECTS else {}),
        }
        assert secret_counts(session_factory) == {
            old: SECRETS - secrets_moved,
            **({new: secrets_moved} if secrets_moved else {}),
        }

        result = rotation.rotate(vault, session_factory, batch_size=2)
        assert (result.subject_keys, result.secrets) == (
            SUBJECTS - keys_moved,
            SECRETS - secrets_moved,
        )
        assert vault.keystore.count_by_key() == {new: SUBJECTS}
        assert secret_counts(session_factory) == {new: SECRETS}
        assert rotation.plan(vault, session_factory).total == 0

    # Nothing needs the old key any more: without it, everything still decrypts.
    keyring.remove_key(settings, old)
    with Vault.from_settings(settings) as after:
        assert list(after.ring.keys) == [new]
        for subject, token in tokens.items():
            assert after.decrypt_for_subject(subject, token, "ctx") == f"data of {subject}"
        with session_factory() as check:
            for n in range(SECRETS):
                assert get_secret(check, after, f"secret-{n}") == f"value {n}"
            rows = check.scalars(select(VaultSecret)).all()
            assert all(row.ciphertext.startswith(f"v1.{new}.") for row in rows)


def test_batch_size_must_be_positive(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with make_vault(settings) as vault, pytest.raises(PrivacyOpsError, match="at least 1"):
        rotation.rotate(vault, session_factory, batch_size=0)
