"""Queries for data subjects and identities. No commits here: the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from privacyops.models.identity import DataSubject, SubjectIdentity


def get_subject(db: Session, subject_id: str) -> DataSubject | None:
    return db.get(DataSubject, subject_id)


def add_subject(db: Session, subject: DataSubject) -> DataSubject:
    db.add(subject)
    db.flush()
    return subject


def find_identities(db: Session, keys: Sequence[tuple[str, str]]) -> Sequence[SubjectIdentity]:
    """Identities by (blind_index, kind) pairs."""
    if not keys:
        return []
    # By index alone, the pairs checked here: SQLite scans the table for a (blind_index, kind)
    # tuple IN, but looks each index up for a plain IN.
    wanted = set(keys)
    query = select(SubjectIdentity).where(
        SubjectIdentity.blind_index.in_(sorted({index for index, _kind in wanted}))
    )
    return [row for row in db.scalars(query) if (row.blind_index, row.kind) in wanted]


def identities_of(db: Session, subject_id: str) -> Sequence[SubjectIdentity]:
    query = (
        select(SubjectIdentity)
        .where(SubjectIdentity.subject_id == subject_id)
        .order_by(SubjectIdentity.kind, SubjectIdentity.created_at, SubjectIdentity.id)
    )
    return db.scalars(query).all()


def add_identities(db: Session, identities: Sequence[SubjectIdentity]) -> None:
    # In a savepoint, so that a unique-index race leaves the caller's transaction usable.
    with db.begin_nested():
        db.add_all(identities)
        db.flush()


def delete_identities_of(db: Session, subject_id: str) -> int:
    result = db.execute(delete(SubjectIdentity).where(SubjectIdentity.subject_id == subject_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
