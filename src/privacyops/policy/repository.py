"""Queries for published policy versions. No commits here: the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.models.policy import PolicyVersion


def add_version(db: Session, version: PolicyVersion) -> PolicyVersion:
    db.add(version)
    db.flush()
    return version


def latest_version(db: Session) -> PolicyVersion | None:
    """The most recently published version, in force or scheduled."""
    return db.scalars(select(PolicyVersion).order_by(PolicyVersion.number.desc()).limit(1)).first()


def version_in_force(db: Session, on: date) -> PolicyVersion | None:
    """The version that governs on `on`: the newest one whose effective date has come."""
    query = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on <= on)
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.number.desc())
        .limit(1)
    )
    return db.scalars(query).first()


def scheduled_versions(db: Session, after: date) -> Sequence[PolicyVersion]:
    """Published versions that take effect after `after` (announced, not yet in force)."""
    query = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on > after)
        .order_by(PolicyVersion.effective_on, PolicyVersion.number)
    )
    return db.scalars(query).all()


def get_version(db: Session, number: int) -> PolicyVersion | None:
    return db.scalars(select(PolicyVersion).where(PolicyVersion.number == number)).first()


def list_versions(db: Session, offset: int = 0, limit: int = 50) -> Sequence[PolicyVersion]:
    query = select(PolicyVersion).order_by(PolicyVersion.number.desc()).offset(offset).limit(limit)
    return db.scalars(query).all()


def count_versions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(PolicyVersion)) or 0


def next_number(db: Session) -> int:
    return (db.scalar(select(func.max(PolicyVersion.number))) or 0) + 1
