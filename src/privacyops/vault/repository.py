"""Queries for vault secrets. No commits here: the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.models.vault import VaultSecret


def get_secret(db: Session, name: str) -> VaultSecret | None:
    return db.scalars(select(VaultSecret).where(VaultSecret.name == name)).first()


def add_secret(db: Session, secret: VaultSecret) -> VaultSecret:
    db.add(secret)
    db.flush()
    return secret


def secrets_not_under(db: Session, key_id: str, limit: int) -> Sequence[VaultSecret]:
    query = (
        select(VaultSecret)
        .where(VaultSecret.key_id != key_id)
        .order_by(VaultSecret.id)
        .limit(limit)
        .with_for_update()
    )
    return db.scalars(query).all()


def count_secrets_by_key(db: Session) -> dict[str, int]:
    query = select(VaultSecret.key_id, func.count()).group_by(VaultSecret.key_id)
    return {str(key_id): int(count) for key_id, count in db.execute(query).all()}
