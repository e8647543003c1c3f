"""Daily jobs: due-soon flags, denial of unverified requests, purge after 24 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.dsr import jobs, service, workflow
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import (
    DataRequest,
    OutgoingMail,
    RequestEvent,
    RequestIdentity,
    RequestTally,
    VerificationCode,
)
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import LINKS, T0, last_code, messages, submit


def count(db: Session, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(db.scalar(query) or 0)


def test_flag_due_soon_marks_once(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)
    assert jobs.flag_due_soon(db, T0) == []

    soon = request.due_at - timedelta(days=3)
    assert jobs.flag_due_soon(db, soon) == [request]
    assert jobs.flag_due_soon(db, soon + timedelta(hours=1)) == [request]

    assert request.due_soon_at == soon
    assert count(db, RequestEvent, request_id=request.id, action="due_soon") == 1


def test_closed_requests_are_not_flagged(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)
    workflow.cancel(db, vault, request.id, actor="staff:1", now=T0)

    assert jobs.flag_due_soon(db, request.due_at) == []


def test_unverified_requests_past_due_are_denied(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    unverified = submit(db, vault, policy)
    verified = submit(db, vault, policy, type="confirm")
    service.verify(db, vault, verified.id, last_code(db, vault, verified.id), now=T0)
    after = unverified.due_at + timedelta(seconds=1)

    assert jobs.deny_unverified_past_due(db, vault, LINKS, unverified.due_at) == []
    assert jobs.deny_unverified_past_due(db, vault, LINKS, after) == [unverified]
    assert jobs.deny_unverified_past_due(db, vault, LINKS, after) == []

    assert unverified.status == "denied"
    assert unverified.denial_reason == "could_not_verify"
    assert verified.status == "in_progress"
    notice = messages(db, vault, unverified.id)[-1]
    assert notice.template == "dsr_denial"
    assert "could not verify your identity" in notice.text


def test_retention_cutoff_counts_calendar_months() -> None:
    now = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert jobs.retention_cutoff(now) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert jobs.retention_cutoff(T0) == datetime(2024, 11, 27, 15, 0, tzinfo=UTC)


def test_purge_after_24_months_keeps_only_anonymous_tallies(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)
    closed = T0 + timedelta(days=10)
    workflow.approve(db, vault, LINKS, request.id, actor="staff:1", now=closed)
    still_open = submit(db, vault, policy, type="deletion")
    request_id = request.id

    assert jobs.purge_old_records(db, closed + timedelta(days=365 * 2 - 5)) == 0
    assert jobs.purge_old_records(db, closed + timedelta(days=365 * 2 + 3)) == 1
    assert jobs.purge_old_records(db, closed + timedelta(days=365 * 2 + 4)) == 0

    db.expire_all()
    assert db.get(DataRequest, request_id) is None
    assert db.get(DataRequest, still_open.id) is not None
    for model in (RequestIdentity, VerificationCode, RequestEvent):
        assert count(db, model, request_id=request_id) == 0
    assert count(db, OutgoingMail, request_id=request_id) == 0
    tally = db.scalars(select(RequestTally)).one()
    assert (tally.type, tally.outcome, tally.channel, tally.days_to_response) == (
        "access",
        "completed",
        "api",
        10,
    )
    assert count(db, AuditEvent, action="request.purged") == 1
