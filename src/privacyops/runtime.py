"""Process-wide resources for the web app, the CLI and jobs: database sessions and the vault.

Tests replace `open_session_factory` and `open_vault` to point everything at their own.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import make_engine, make_session_factory
from privacyops.settings import Settings
from privacyops.vault.service import Vault


def open_session_factory(settings: Settings) -> sessionmaker[Session]:
    return _factory(settings.effective_database_url, settings.database_echo)


@lru_cache(maxsize=8)
def _factory(url: str, echo: bool) -> sessionmaker[Session]:
    # One engine (and pool) per database for the whole process: jobs run often.
    return make_session_factory(make_engine(url, echo=echo))


_VAULTS: dict[tuple[str, str, str], Vault] = {}


def open_vault(settings: Settings) -> Vault:
    """The process's vault for these settings: one key store engine and key cache, shared."""
    keyring = settings.vault_keyring.get_secret_value() if settings.vault_keyring else ""
    key = (str(settings.data_dir), settings.effective_keystore_url, keyring)
    if key not in _VAULTS:
        _VAULTS[key] = Vault.from_settings(settings)
    return _VAULTS[key]
