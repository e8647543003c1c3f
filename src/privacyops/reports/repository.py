"""Queries for the reports: only the columns the figures need, never a subject or an identity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.models.dsr import DataRequest, RequestTally


class LiveRow(NamedTuple):
    type: str
    state: str
    status: str
    denial_reason: str | None
    received_at: datetime
    responded_at: datetime | None


class TallyRow(NamedTuple):
    type: str
    outcome: str
    denial_reason: str | None
    days_to_response: int | None


def live_requests(
    db: Session,
    types: Sequence[str],
    received_from: datetime,
    received_before: datetime,
    state: str | None = None,
) -> list[LiveRow]:
    """Requests of `types` received in [received_from, received_before), optionally of one
    state."""
    query = select(
        DataRequest.type,
        DataRequest.state,
        DataRequest.status,
        DataRequest.denial_reason,
        DataRequest.received_at,
        DataRequest.responded_at,
    ).where(
        DataRequest.type.in_(list(types)),
        DataRequest.received_at >= received_from,
        DataRequest.received_at < received_before,
    )
    if state is not None:
        query = query.where(DataRequest.state == state)
    return [LiveRow(*row) for row in db.execute(query)]


def tallies(
    db: Session, types: Sequence[str], first: date, last: date, state: str | None = None
) -> list[TallyRow]:
    """Tallies of purged requests of `types` received from `first` to `last` (both included,
    days of the requester's state), optionally of one state."""
    query = select(
        RequestTally.type,
        RequestTally.outcome,
        RequestTally.denial_reason,
        RequestTally.days_to_response,
    ).where(
        RequestTally.type.in_(list(types)),
        RequestTally.received_on >= first,
        RequestTally.received_on <= last,
    )
    if state is not None:
        query = query.where(RequestTally.state == state)
    return [TallyRow(*row) for row in db.execute(query)]
