"""Queries for rights requests. No commits here: the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from privacyops.models.connectors import AccessPackage, CollectionTask, ProcessorInstruction
from privacyops.models.dsr import (
    DataRequest,
    OutgoingMail,
    RequestEvent,
    RequestIdentity,
    RequestTally,
    RequestTask,
    VerificationCode,
)


@dataclass(frozen=True)
class RequestFilters:
    status: str | None = None
    type: str | None = None
    state: str | None = None
    due_before: datetime | None = None
    # Added for the console: a group of statuses (open, closed) and the start of a due window.
    statuses: tuple[str, ...] | None = None
    due_after: datetime | None = None


def get_request(db: Session, request_id: str) -> DataRequest | None:
    return db.get(DataRequest, request_id)


def get_request_for_update(db: Session, request_id: str) -> DataRequest | None:
    """The request, locked for the rest of the transaction where the database can (PostgreSQL),
    so that two verifications or two staff decisions of one request run one after the other."""
    query = select(DataRequest).where(DataRequest.id == request_id).with_for_update()
    return db.scalars(query).first()


def by_idempotency_hash(db: Session, digest: str) -> DataRequest | None:
    return db.scalars(select(DataRequest).where(DataRequest.idempotency_hash == digest)).first()


def add(db: Session, *rows: object) -> None:
    db.add_all(rows)
    db.flush()


def identities_of(db: Session, request_id: str) -> Sequence[RequestIdentity]:
    query = (
        select(RequestIdentity)
        .where(RequestIdentity.request_id == request_id)
        .order_by(RequestIdentity.kind)
    )
    return db.scalars(query).all()


def code_for(db: Session, identity_id: str) -> VerificationCode | None:
    return db.scalars(
        select(VerificationCode).where(VerificationCode.identity_id == identity_id)
    ).first()


def events_of(db: Session, request_id: str) -> Sequence[RequestEvent]:
    query = (
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.at, RequestEvent.id)
    )
    return db.scalars(query).all()


def tasks_of(db: Session, request_id: str) -> Sequence[RequestTask]:
    query = select(RequestTask).where(RequestTask.request_id == request_id).order_by(RequestTask.id)
    return db.scalars(query).all()


def collection_tasks_of(db: Session, request_id: str) -> Sequence[CollectionTask]:
    query = select(CollectionTask).where(CollectionTask.request_id == request_id)
    return db.scalars(query.order_by(CollectionTask.id)).all()


def get_task(db: Session, request_id: str, task_id: int) -> RequestTask | None:
    task = db.get(RequestTask, task_id)
    return task if task is not None and task.request_id == request_id else None


def _filtered(query: Select[Any], filters: RequestFilters) -> Select[Any]:
    if filters.status is not None:
        query = query.where(DataRequest.status == filters.status)
    if filters.type is not None:
        query = query.where(DataRequest.type == filters.type)
    if filters.state is not None:
        query = query.where(DataRequest.state == filters.state)
    due = func.coalesce(DataRequest.extended_due_at, DataRequest.due_at)
    if filters.due_before is not None:
        query = query.where(due < filters.due_before)
    if filters.due_after is not None:
        query = query.where(due >= filters.due_after)
    if filters.statuses is not None:
        query = query.where(DataRequest.status.in_(filters.statuses))
    return query


def search(db: Session, filters: RequestFilters, offset: int, limit: int) -> Sequence[DataRequest]:
    """Soonest due first: the order staff work in."""
    query = _filtered(select(DataRequest), filters).order_by(
        func.coalesce(DataRequest.extended_due_at, DataRequest.due_at), DataRequest.id
    )
    return db.scalars(query.offset(offset).limit(limit)).all()


def count(db: Session, filters: RequestFilters) -> int:
    query = _filtered(select(DataRequest), filters).with_only_columns(func.count())
    return int(db.scalar(query) or 0)


def open_due_before(
    db: Session, statuses: Sequence[str], before: datetime
) -> Sequence[DataRequest]:
    query = (
        select(DataRequest)
        .where(DataRequest.status.in_(list(statuses)))
        .where(func.coalesce(DataRequest.extended_due_at, DataRequest.due_at) < before)
        .order_by(DataRequest.due_at, DataRequest.id)
    )
    return db.scalars(query).all()


def closed_before(db: Session, before: datetime, limit: int) -> Sequence[DataRequest]:
    query = (
        select(DataRequest)
        .where(DataRequest.closed_at.is_not(None), DataRequest.closed_at < before)
        .order_by(DataRequest.closed_at, DataRequest.id)
        .limit(limit)
    )
    return db.scalars(query).all()


def appeals_of(db: Session, request_id: str) -> Sequence[DataRequest]:
    return db.scalars(select(DataRequest).where(DataRequest.appeal_of == request_id)).all()


def delete_requests(db: Session, request_ids: Sequence[str]) -> None:
    """Delete requests with everything hanging off them (the foreign keys do not cascade on
    every backend in the same way, so each table is named)."""
    ids = list(request_ids)
    if not ids:
        return
    db.execute(
        update(DataRequest)
        .where(DataRequest.appeal_of.in_(ids))
        .values(appeal_of=None)
        .execution_options(synchronize_session=False)
    )
    for unlinked in (OutgoingMail, ProcessorInstruction):
        db.execute(
            update(unlinked)
            .where(unlinked.request_id.in_(ids))
            .values(request_id=None)
            .execution_options(synchronize_session=False)
        )
    children = (VerificationCode, RequestIdentity, RequestEvent, RequestTask, CollectionTask)
    for model in (*children, AccessPackage):
        db.execute(
            delete(model)
            .where(model.request_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    db.execute(
        delete(DataRequest)
        .where(DataRequest.id.in_(ids))
        .execution_options(synchronize_session=False)
    )


def add_tallies(db: Session, tallies: Sequence[RequestTally]) -> None:
    db.add_all(tallies)
    db.flush()


def identity_indexes(db: Session, request_id: str) -> set[tuple[str, str]]:
    query = select(RequestIdentity.kind, RequestIdentity.blind_index).where(
        RequestIdentity.request_id == request_id
    )
    return {(kind, index) for kind, index in db.execute(query)}
