"""Daily jobs on requests; plain functions, each idempotent (running twice changes nothing more).

The caller (scheduler, CLI) opens the session and commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.dsr import repository
from privacyops.dsr.records import SYSTEM, add_event
from privacyops.dsr.status import OPEN, DenialReason, Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.dsr.workflow import deny_request
from privacyops.models.dsr import DataRequest, RequestTally
from privacyops.rights.calendar import local_date
from privacyops.vault.service import Vault

DUE_SOON_DAYS = 7
RETENTION_MONTHS = 24  # 11 CCR 7101(a): request records kept at least 24 months
PURGE_BATCH = 500
_UNVERIFIED = (Status.received.value, Status.awaiting_verification.value)


def flag_due_soon(db: Session, now: datetime, days: int = DUE_SOON_DAYS) -> list[DataRequest]:
    """Open requests due within `days` (or overdue), soonest first. Each is marked once
    (`due_soon_at`, and a request event), so staff are told once; every call returns them all."""
    found = list(
        repository.open_due_before(db, [s.value for s in OPEN], now + timedelta(days=days))
    )
    for request in found:
        if request.due_soon_at is None:
            request.due_soon_at = now
            add_event(db, None, request, actor=SYSTEM, action="due_soon", now=now)
    db.flush()
    return found


def deny_unverified_past_due(
    db: Session, vault: Vault, links: StatusLinks, now: datetime
) -> list[DataRequest]:
    """Requests still unverified when their answer is due are denied (`could_not_verify`,
    11 CCR 7021(b)), with the denial notice. Denied requests are no longer found: idempotent."""
    denied = []
    for request in repository.open_due_before(db, list(_UNVERIFIED), now):
        deny_request(
            db,
            vault,
            links,
            request,
            DenialReason.could_not_verify,
            None,
            actor=SYSTEM,
            now=now,
        )
        denied.append(request)
    return denied


def retention_cutoff(now: datetime, months: int = RETENTION_MONTHS) -> datetime:
    """`now` minus whole calendar months (29 February falls back to the 28th)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def purge_old_records(db: Session, now: datetime) -> int:
    """Delete requests closed more than 24 months ago, with their identities, codes, events and
    tasks; their sent-mail receipts lose the link to them.

    What stays is an anonymous tally per request (receipt day, type, channel, outcome, days to
    respond): the 11 CCR 7102 metrics need no more. Returns how many were purged.
    """
    cutoff = retention_cutoff(now)
    purged = 0
    while True:
        batch = list(repository.closed_before(db, cutoff, PURGE_BATCH))
        if not batch:
            return purged
        repository.add_tallies(db, [_tally(r) for r in batch])
        for request in batch:
            record(
                db,
                AuditAction.request_purged,
                actor=SYSTEM,
                target=f"request:{request.id}",
                details={"type": request.type, "state": request.state, "status": request.status},
            )
        repository.delete_requests(db, [r.id for r in batch])
        purged += len(batch)


def _tally(request: DataRequest) -> RequestTally:
    days = None
    if request.responded_at is not None:
        days = (request.responded_at - request.received_at).days
    return RequestTally(
        received_on=local_date(request.received_at, request.state),
        state=request.state,
        type=request.type,
        channel=request.channel,
        outcome=request.status,
        denial_reason=request.denial_reason,
        days_to_response=days,
    )
