"""Typed dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from privacyops.settings import Settings
from privacyops.vault.service import Vault


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler returns without error."""
    factory = request.app.state.session_factory
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_vault(request: Request) -> Vault:
    """The process's one vault (its key store engine is shared), made on first use."""
    vault: Vault | None = getattr(request.app.state, "vault", None)
    if vault is None:
        vault = Vault.from_settings(request.app.state.settings)
        request.app.state.vault = vault
    return vault


DbSession = Annotated[Session, Depends(get_db)]
AppVault = Annotated[Vault, Depends(get_vault)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
