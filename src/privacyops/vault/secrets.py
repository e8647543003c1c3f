"""Platform secrets (connector credentials, API keys of partners): named, encrypted under the ring.

They belong to no data subject, so they are not shredded with anyone; rotation re-encrypts them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from privacyops.errors import NotFound
from privacyops.models.types import utcnow
from privacyops.models.vault import VaultSecret
from privacyops.vault import repository
from privacyops.vault.crypto import token_key_ref
from privacyops.vault.service import Vault


def secret_context(name: str) -> str:
    # Bound to the name: a ciphertext copied under another name will not decrypt.
    return f"vault_secrets:{name}"


def set_secret(db: Session, vault: Vault, name: str, value: str) -> VaultSecret:
    """Create or replace the secret `name`."""
    token = vault.encrypt_secret(value, secret_context(name))
    secret = repository.get_secret(db, name)
    if secret is None:
        secret = VaultSecret(name=name, ciphertext=token, key_id=token_key_ref(token))
        return repository.add_secret(db, secret)
    secret.ciphertext, secret.key_id, secret.updated_at = token, token_key_ref(token), utcnow()
    db.flush()
    return secret


def get_secret(db: Session, vault: Vault, name: str) -> str:
    secret = repository.get_secret(db, name)
    if secret is None:
        raise NotFound(f"no secret named {name!r} in the vault")
    return vault.decrypt_secret(secret.ciphertext, secret_context(name))


def reencrypt(vault: Vault, secret: VaultSecret) -> None:
    """Put one secret under the active ring key (rotation)."""
    value = vault.decrypt_secret(secret.ciphertext, secret_context(secret.name))
    secret.ciphertext = vault.encrypt_secret(value, secret_context(secret.name))
    secret.key_id = vault.ring.active_id
