"""First-start preparation of the vault's key ring."""

from __future__ import annotations

from privacyops.settings import Settings


def ensure_keyring(settings: Settings) -> str | None:
    """Create the local key ring file if none is configured; returns what it did, if anything."""
    return None
