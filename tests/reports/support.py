"""Requests and tallies with known dates and outcomes, written straight to the tables: the
figures of a report are easiest to check against rows whose every field the test chose."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from privacyops.models.dsr import DataRequest, RequestTally
from privacyops.models.identity import DataSubject

_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """`2025-03-01T10:00` as a UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_request(
    db: Session,
    type: str,
    state: str,
    received: datetime,
    status: str = "completed",
    *,
    days: float | None = None,
    reason: str | None = None,
) -> DataRequest:
    """A request received at `received`; answered `days` later when given (completed or
    denied), closed when its status is final."""
    subject = DataSubject(id=str(uuid.uuid4()))
    db.add(subject)
    db.flush()  # no relationship tells the unit of work which row goes first
    responded = received + timedelta(days=days) if days is not None else None
    closed = responded if status in ("completed", "denied") else None
    if status == "canceled":
        closed = received + timedelta(days=1)
    request = DataRequest(
        id=f"R-T{next(_numbers):09d}",
        type=type,
        state=state,
        channel="web",
        status=status,
        subject_id=subject.id,
        received_at=received,
        due_at=received + timedelta(days=45),
        verification="standard",
        responded_at=responded,
        closed_at=closed,
        denial_reason=reason,
        policy_version=1,
        rules_snapshot={},
    )
    db.add(request)
    db.flush()
    return request


def add_tally(
    db: Session,
    type: str,
    received_on: date,
    outcome: str = "completed",
    *,
    state: str | None = "CA",
    days: int | None = None,
    reason: str | None = None,
) -> RequestTally:
    tally = RequestTally(
        received_on=received_on,
        type=type,
        channel="web",
        outcome=outcome,
        denial_reason=reason,
        days_to_response=days,
        state=state,
    )
    db.add(tally)
    db.flush()
    return tally


def add_year_2025(db: Session) -> None:
    """The data set most tests read: every kind, outcome and denial ground in 2025, plus
    requests that must not count (other years, profiling, appeals)."""
    # Deletion: 2 completed (10, 20 days; the second answered in 2026), 2 denied, 1 open,
    # 1 canceled. Days 10, 20, 45, 3: median 15.0, mean 19.5.
    add_request(db, "deletion", "CA", at("2025-03-01T10:00"), days=10)
    add_request(db, "deletion", "CA", at("2025-12-20T18:00"), days=20)
    add_request(db, "deletion", "TX", at("2025-04-01T15:00"), "denied", days=45,
                reason="could_not_verify")  # fmt: skip
    add_request(db, "deletion", "VA", at("2025-05-05T15:00"), "denied", days=3,
                reason="exemption")  # fmt: skip
    add_request(db, "deletion", "CA", at("2025-11-30T12:00"), "in_progress")
    add_request(db, "deletion", "CA", at("2025-06-10T12:00"), "canceled")
    # Know: access, confirm, portability; days 5, 1, 2: median 2.0, mean 2.7 (8/3).
    add_request(db, "access", "CA", at("2025-02-02T09:00"), days=5)
    add_request(db, "confirm", "CO", at("2025-02-03T16:00"), days=1.5)
    add_request(db, "portability", "NY", at("2025-07-07T16:00"), "denied", days=2,
                reason="not_a_resident")  # fmt: skip
    # Opt-out of sale/sharing: sale, sharing, targeted advertising; days 1, 2, 4.
    add_request(db, "opt_out_sale", "CA", at("2025-08-01T12:00"), days=1)
    add_request(db, "opt_out_sharing", "CA", at("2025-08-02T12:00"), days=2)
    add_request(db, "opt_out_targeted_advertising", "VA", at("2025-08-03T12:00"), days=4)
    # Limit: one duplicate, answered the same day (0 days).
    add_request(db, "limit_sensitive", "CA", at("2025-09-09T12:00"), "denied", days=0.2,
                reason="duplicate")  # fmt: skip
    # Not counted: not a 7102 kind, or another year.
    add_request(db, "opt_out_profiling", "CO", at("2025-08-04T12:00"), days=1)
    add_request(db, "appeal", "VA", at("2025-06-01T12:00"), days=10)
    add_request(db, "deletion", "CA", at("2024-12-31T12:00"), days=10)
    add_request(db, "deletion", "CA", at("2026-01-02T12:00"), days=10)
