"""First-start preparation of the vault's key ring."""

from __future__ import annotations

from privacyops.settings import Settings
from privacyops.vault.keyring import (
    fresh_config,
    keyring_path,
    load_config,
    uses_local_file,
    write_config,
)


def ensure_keyring(settings: Settings) -> str | None:
    """Create the local key ring file if none is configured; returns what it did, if anything.

    A ring that exists already is validated, so that a broken one stops `setup`, not a request.
    """
    path = keyring_path(settings)
    if not uses_local_file(settings) or path.exists():
        load_config(settings)
        return None
    write_config(path, fresh_config())
    return (
        f"generated a vault key ring in {path}; in production set PRIVACYOPS_VAULT_KEYRING, "
        "or keep this file safe and back it up separately from database backups "
        "(without it no encrypted data can be read; beside them it would unlock them)"
    )
