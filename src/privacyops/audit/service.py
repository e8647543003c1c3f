"""Writing to the audit log. Reading, verifying and exporting build on the same chain rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from privacyops.audit import repository
from privacyops.audit.actions import AuditAction
from privacyops.audit.chain import event_hash
from privacyops.audit.schemas import AuditFilters, Page, event_record
from privacyops.audit.verify import VerifyResult
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.models.types import utcnow

SYSTEM = "system"


@dataclass(frozen=True)
class Entry:
    """One event to append: who did what to whom (see `record`)."""

    action: AuditAction
    actor: str
    subject: str | None = None
    target: str | None = None
    client: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Recorded:
    """Where an appended event sits in the chain."""

    seq: int
    at: datetime
    hash: str
    prev_hash: str


def record(
    db: Session,
    action: AuditAction,
    *,
    actor: str,
    subject: str | None = None,
    target: str | None = None,
    client: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Recorded:
    """Append one event in the caller's transaction: it is committed with the change it records.

    `actor` is `staff:<id>`, `token:<id>`, `cli`, `consumer`, `anonymous` (a failed login)
    or `system`; `subject` is a keyed
    hash of the data subject (never an identity in clear); `details` must hold no personal data.
    """
    return record_many(db, [Entry(action, actor, subject, target, client, details)])[0]


def record_many(db: Session, entries: Sequence[Entry]) -> list[Recorded]:
    """Append events in order, chained, with one move of the chain's head and one INSERT for
    all of them."""
    if not entries:
        return []
    last_seq, prev_hash = repository.advance_head(db, len(entries))
    at = utcnow()
    rows: list[dict[str, Any]] = []
    recorded = []
    for seq, entry in enumerate(entries, start=last_seq - len(entries) + 1):
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": entry.actor,
            "action": str(entry.action),
            "subject": entry.subject,
            "target": entry.target,
            "client": entry.client,
            "details": dict(entry.details or {}),
        }
        digest = event_hash(**fields, prev_hash=prev_hash)
        rows.append({**fields, "prev_hash": prev_hash, "hash": digest})
        recorded.append(Recorded(seq, at, digest, prev_hash))
        prev_hash = digest
    repository.append(db, rows)
    return recorded


MAX_PAGE = 500


def search_events(db: Session, filters: AuditFilters, offset: int = 0, limit: int = 50) -> Page:
    """One page of matching events, newest first, with the total count.

    Reading the log is itself worth recording: callers that show events to staff record
    `audit.viewed` (the admin console and API do, with the filters in `details`).
    """
    _check_page(offset, limit)
    _check_dates(filters)
    items = repository.search(db, filters, offset, limit)
    return Page(items=items, total=repository.count(db, filters), offset=offset, limit=limit)


def export_events(
    db: Session, filters: AuditFilters, *, upto_seq: int | None = None, batch_size: int = 1000
) -> Iterator[dict[str, Any]]:
    """Matching events, oldest first, as plain dicts; streamed in batches (constant memory).

    `upto_seq` bounds the export to a snapshot, so events recorded while it runs (including the
    `audit.exported` event of the export itself) are left for the next one.
    """
    _check_dates(filters)
    after = 0
    while True:
        rows = repository.matching_after(db, filters, after, upto_seq, batch_size)
        for row in rows:
            yield event_record(row)
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


def count_events(db: Session, filters: AuditFilters, upto_seq: int | None = None) -> int:
    _check_dates(filters)
    return repository.count(db, filters, upto_seq)


def head_seq(db: Session) -> int:
    """The sequence number of the last recorded event (0 for an empty log)."""
    head_seq, _hash, max_seq = repository.chain_state(db)
    return head_seq if head_seq is not None else max_seq


def filter_details(filters: AuditFilters) -> dict[str, Any]:
    """The filters as an event's details: names, actions, hashes and days, no personal data."""
    return filters.model_dump(mode="json", exclude_none=True)


def record_viewed(
    db: Session, filters: AuditFilters, page: Page, *, actor: str, client: str | None, via: str
) -> Recorded:
    """One `audit.viewed` per page of events shown to staff.

    A search by subject names that subject on the event too, so the subject's own trail shows
    who looked it up.
    """
    details = {**filter_details(filters), "offset": page.offset, "shown": len(page.items)}
    return record(
        db,
        AuditAction.audit_viewed,
        actor=actor,
        subject=filters.subject,
        client=client,
        details={**details, "via": via},
    )


@dataclass(frozen=True)
class ExportStart:
    """An export about to run: the snapshot it covers (`upto_seq`) and how many events."""

    upto_seq: int
    total: int


def start_export(
    db: Session, filters: AuditFilters, *, actor: str, client: str | None, to: str
) -> ExportStart:
    """Record `audit.exported` for an export of the events recorded so far.

    The caller commits before sending the first event, so even an interrupted download is on
    record; the export itself then reads with `export_events(..., upto_seq=...)`.
    """
    upto = head_seq(db)
    total = count_events(db, filters, upto_seq=upto)
    record(
        db,
        AuditAction.audit_exported,
        actor=actor,
        subject=filters.subject,
        client=client,
        details={**filter_details(filters), "events": total, "to": to},
    )
    return ExportStart(upto, total)


def record_verified(
    db: Session, result: VerifyResult, *, actor: str, client: str | None
) -> VerifyResult:
    """Record an intact walk as `audit.verified`. The walk may have read another session (a
    snapshot: on SQLite a long walk then keeps no write lock).

    A broken chain is left exactly as found (nothing appended), as `privacyops audit verify`
    does: the answer is the alert, and the evidence stays untouched for whoever investigates.
    """
    if result.ok:
        record(
            db,
            AuditAction.audit_verified,
            actor=actor,
            client=client,
            details={"events": result.checked},
        )
    return result


def _check_page(offset: int, limit: int) -> None:
    problems = []
    if offset < 0:
        problems.append(FieldProblem("offset", "must be 0 or more"))
    if not 1 <= limit <= MAX_PAGE:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_PAGE}"))
    if problems:
        raise InvalidInput("; ".join(p.render() for p in problems), problems)


def _check_dates(filters: AuditFilters) -> None:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        problem = FieldProblem("date_to", "must be on or after date_from")
        raise InvalidInput(problem.render(), [problem])
