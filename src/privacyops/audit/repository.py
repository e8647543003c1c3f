"""Queries for the audit log. Events are only ever inserted; nothing here updates or deletes one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from privacyops.audit.schemas import AuditFilters
from privacyops.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent

HEAD_ID = 1


def advance_head(db: Session, count: int = 1) -> tuple[int, str]:
    """Reserve the next `count` sequence numbers; returns the last of them with the hash of the
    event before the first.

    The UPDATE comes first so the lock is taken before the head is read (see AuditChainHead).
    """
    given = {"count": count}
    head = db.execute(_BUMP, given).first()
    if head is None:
        _create_head(db)
        head = db.execute(_BUMP, given).one()
    return int(head.seq), str(head.hash)


# Built once, as every event appended runs them.
_BUMP = (
    update(AuditChainHead)
    .where(AuditChainHead.id == HEAD_ID)
    .values(seq=AuditChainHead.seq + bindparam("count"))
    .returning(AuditChainHead.seq, AuditChainHead.hash)  # SQLite 3.35+, PostgreSQL
)
_INSERT = insert(AuditEvent)
_MOVE_HASH = (
    update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(hash=bindparam("last"))
)


def _create_head(db: Session) -> None:
    """Create the head row for the very first event, tolerating a writer that races us to it.

    ON CONFLICT DO NOTHING waits for the other writer's transaction on PostgreSQL; the UPDATE
    that follows then queues behind its row lock instead of failing on the primary key.
    """
    values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH}
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(pg_insert(AuditChainHead).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db.execute(sqlite_insert(AuditChainHead).values(values).on_conflict_do_nothing())
    else:
        db.execute(insert(AuditChainHead).values(values))


def append(db: Session, events: Sequence[dict[str, Any]]) -> None:
    """Insert chained events (oldest first, as column values) and move the head's hash to the
    last one."""
    db.execute(_INSERT, list(events))
    db.execute(_MOVE_HASH, {"last": events[-1]["hash"]})


def head(db: Session) -> AuditChainHead | None:
    return db.get(AuditChainHead, HEAD_ID)


def last_event(db: Session) -> AuditEvent | None:
    return db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()


# --- reading: verification, search, export ------------------------------------------------------

# Plain columns, not entities: rows read in bulk stay out of the session's identity map, so a
# walk over millions of events keeps constant memory.
EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.subject,
    AuditEvent.target,
    AuditEvent.client,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def chain_state(db: Session) -> tuple[int | None, str | None, int]:
    """The head's (seq, hash) and the highest stored seq, read in one statement (one snapshot)."""
    max_seq = select(func.coalesce(func.max(AuditEvent.seq), 0))
    row = db.execute(
        select(AuditChainHead.seq, AuditChainHead.hash, max_seq.scalar_subquery()).where(
            AuditChainHead.id == HEAD_ID
        )
    ).first()
    if row is not None:
        return int(row[0]), str(row[1]), int(row[2])
    return None, None, int(db.scalar(max_seq) or 0)


def events_after(db: Session, after_seq: int, upto_seq: int, limit: int) -> Sequence[Row[Any]]:
    """Up to `limit` events with after_seq < seq <= upto_seq, in seq order (keyset paging)."""
    query = (
        select(*EVENT_COLUMNS)
        .where(AuditEvent.seq > after_seq, AuditEvent.seq <= upto_seq)
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return db.execute(query).all()


def seq_with_hash(db: Session, digest: str) -> int | None:
    """The seq of the event whose hash is `digest`. Unindexed: verify calls it once, on a break."""
    return db.scalar(select(AuditEvent.seq).where(AuditEvent.hash == digest).limit(1))


def id_at(db: Session, seq: int) -> int | None:
    return db.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor:
        conditions.append(AuditEvent.actor == filters.actor)
    actions = filters.action_names()
    if actions is not None:
        conditions.append(AuditEvent.action.in_(actions))
    if filters.subject:
        conditions.append(AuditEvent.subject == filters.subject)
    if filters.target:
        conditions.append(AuditEvent.target == filters.target)
    if filters.date_from:
        conditions.append(AuditEvent.at >= start_of_day(filters.date_from))
    if filters.date_to:
        conditions.append(AuditEvent.at < start_of_day(filters.date_to + timedelta(days=1)))
    return conditions


def start_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def search(db: Session, filters: AuditFilters, offset: int, limit: int) -> Sequence[AuditEvent]:
    """Matching events, newest first."""
    query = (
        select(AuditEvent)
        .where(*_conditions(filters))
        .order_by(AuditEvent.seq.desc())
        .offset(offset)
        .limit(limit)
    )
    return db.scalars(query).all()


def count(db: Session, filters: AuditFilters, upto_seq: int | None = None) -> int:
    conditions = _conditions(filters)
    if upto_seq is not None:
        conditions.append(AuditEvent.seq <= upto_seq)
    query = select(func.count()).select_from(AuditEvent).where(*conditions)
    return int(db.scalar(query) or 0)


def matching_after(
    db: Session, filters: AuditFilters, after_seq: int, upto_seq: int | None, limit: int
) -> Sequence[Row[Any]]:
    """Up to `limit` matching events after `after_seq`, oldest first (keyset paging for export)."""
    conditions = [*_conditions(filters), AuditEvent.seq > after_seq]
    if upto_seq is not None:
        conditions.append(AuditEvent.seq <= upto_seq)
    query = select(*EVENT_COLUMNS).where(*conditions).order_by(AuditEvent.seq).limit(limit)
    return db.execute(query).all()
