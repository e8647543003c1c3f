"""Queries for the audit log. Events are only ever inserted; nothing here updates or deletes one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from privacyops.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent

HEAD_ID = 1


def advance_head(db: Session) -> tuple[int, str]:
    """Reserve the next sequence number; returns it with the previous event's hash.

    The UPDATE comes first so the lock is taken before the head is read (see AuditChainHead).
    """
    updated = db.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(seq=AuditChainHead.seq + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        db.add(AuditChainHead(id=HEAD_ID, seq=1, hash=GENESIS_HASH))
        db.flush()
    head = db.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
    ).one()
    return int(head.seq), str(head.hash)


def append(db: Session, event: AuditEvent) -> None:
    db.add(event)
    db.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(hash=event.hash))
    db.flush()


def head(db: Session) -> AuditChainHead | None:
    return db.get(AuditChainHead, HEAD_ID)


def last_event(db: Session) -> AuditEvent | None:
    return db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
