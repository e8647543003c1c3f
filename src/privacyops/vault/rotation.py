"""Key rotation: move everything under the ring's active key, in committed batches.

Envelope encryption keeps this small: subject data stays encrypted under each subject's data
key and is not touched; only the wrapped data keys (in the key store) and the platform secrets
(encrypted directly under the ring) move to the active key.

Resumable by construction: each batch selects rows whose key id is not the active one, and is
committed before the next; an interrupted run is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import unit_of_work
from privacyops.errors import PrivacyOpsError
from privacyops.vault import repository
from privacyops.vault.secrets import reencrypt
from privacyops.vault.service import Vault, unwrap_key, wrap_key

DEFAULT_BATCH = 500


@dataclass
class RotationPlan:
    subject_keys: int
    secrets: int

    @property
    def total(self) -> int:
        return self.subject_keys + self.secrets


@dataclass
class RotationResult:
    key_id: str
    subject_keys: int = 0
    secrets: int = 0


def plan(vault: Vault, factory: sessionmaker[Session]) -> RotationPlan:
    """What is still under another key than the active one."""
    active = vault.ring.active_id
    keys = sum(n for kid, n in vault.keystore.count_by_key().items() if kid != active)
    with unit_of_work(factory) as db:
        counts = repository.count_secrets_by_key(db)
    return RotationPlan(keys, sum(n for kid, n in counts.items() if kid != active))


def rotate(
    vault: Vault,
    factory: sessionmaker[Session],
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> RotationResult:
    """Re-wrap every subject key and re-encrypt every secret under the active key.

    `on_batch(n)` is called after each committed batch of n rows (progress bars, tests).
    """
    if batch_size < 1:
        raise PrivacyOpsError("batch size must be at least 1")
    result = RotationResult(key_id=vault.ring.active_id)
    while done := _rewrap_batch(vault, batch_size):
        result.subject_keys += done
        if on_batch:
            on_batch(done)
    while done := _reencrypt_batch(vault, factory, batch_size):
        result.secrets += done
        if on_batch:
            on_batch(done)
    return result


def _rewrap_batch(vault: Vault, batch_size: int) -> int:
    batch = vault.keystore.not_under(vault.ring.active_id, batch_size)
    pairs = [
        (old, wrap_key(vault.ring, old.subject_id, unwrap_key(vault.ring, old))) for old in batch
    ]
    vault.keystore.replace_many(pairs)
    # Rows shredded meanwhile simply vanish from the next selection; count what was selected.
    return len(batch)


def _reencrypt_batch(vault: Vault, factory: sessionmaker[Session], batch_size: int) -> int:
    with unit_of_work(factory) as db:
        batch = repository.secrets_not_under(db, vault.ring.active_id, batch_size)
        for secret in batch:
            reencrypt(vault, secret)
        db.flush()
        return len(batch)
