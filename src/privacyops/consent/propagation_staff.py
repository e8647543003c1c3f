"""Staff's side of opt-out propagation: the list (with what is overdue), trying a failed task
again at once, closing a task staff carried out by hand, and showing whom a task is about.

Plain Python over the session the route opened; nothing here commits. Every change is a
`consent.propagated` event naming the staff member; showing a task's person is a
`subject.viewed` event (the list names no one, so listing is not a read of personal data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record as audit
from privacyops.consent.propagation import (
    AWAITING,
    DONE,
    FAILED,
    MANUAL,
    OPEN,
    STATUSES,
    audited,
    overdue_clause,
)
from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound
from privacyops.identity.service import reveal_identities
from privacyops.models.connectors import Datastore
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.vault.service import SubjectShredded, Vault

OPEN_GROUP = "open"  # a status filter meaning every open status
MAX_PAGE = 200
MAX_NOTE = 2000
MAX_ID = 2**31 - 1
# Staff may close what a person can carry out: a manual task, a partner that cannot be reached
# (staff told it another way), a partner reached by mail that confirmed another way.
CLOSABLE = frozenset({MANUAL, FAILED, AWAITING})
_NOTE_CONTEXT = "consent_propagation:note"


class PropagationConflict(Conflict):
    title = "Invalid transition"


@dataclass(frozen=True)
class Listed:
    task: ConsentPropagation
    overdue: bool


@dataclass(frozen=True)
class Listing:
    items: list[Listed]
    total: int
    offset: int
    limit: int


def check_status(status: str | None) -> str | None:
    """The status filter: one status, `open`, or none (all)."""
    if status is None or status == "":
        return None
    if status != OPEN_GROUP and status not in STATUSES:
        message = f"one of {OPEN_GROUP}, {', '.join(STATUSES)}"
        raise InvalidInput(f"status: {message}", [FieldProblem("status", message)])
    return status


def list_tasks(
    db: Session,
    now: datetime,
    *,
    status: str | None = None,
    overdue: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> Listing:
    """Tasks soonest due first (then oldest), with whether each is overdue. No identities."""
    status = check_status(status)
    late = overdue_clause(now)
    query = select(ConsentPropagation, late.label("overdue")).join(
        ConsentRecord, ConsentRecord.id == ConsentPropagation.record_id
    )
    if status == OPEN_GROUP:
        query = query.where(ConsentPropagation.status.in_(sorted(OPEN)))
    elif status is not None:
        query = query.where(ConsentPropagation.status == status)
    if overdue:
        query = query.where(late)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(
        query.order_by(ConsentPropagation.due_on, ConsentPropagation.id).offset(offset).limit(limit)
    )
    return Listing([Listed(task, bool(late_)) for task, late_ in rows], total, offset, limit)


def overdue_count(db: Session, now: datetime) -> int:
    query = (
        select(func.count())
        .select_from(ConsentPropagation)
        .join(ConsentRecord, ConsentRecord.id == ConsentPropagation.record_id)
        .where(overdue_clause(now))
    )
    return db.scalar(query) or 0


def load(db: Session, task_id: int, *, lock: bool = False) -> ConsentPropagation:
    task = db.get(ConsentPropagation, task_id, with_for_update=lock) if task_id <= MAX_ID else None
    if task is None:
        raise NotFound(f"no opt-out propagation task {task_id}")
    return task


def is_overdue(db: Session, task: ConsentPropagation, now: datetime) -> bool:
    query = (
        select(ConsentPropagation.id)
        .join(ConsentRecord, ConsentRecord.id == ConsentPropagation.record_id)
        .where(ConsentPropagation.id == task.id, overdue_clause(now))
    )
    return db.scalar(query) is not None


def retry_now(
    db: Session, vault: Vault, task_id: int, *, actor: str, now: datetime, client: str | None
) -> ConsentPropagation:
    """A failed task is due at once (the caller queues the job after the commit), for when the
    partner is back or its settings were fixed. Only a failed task: the others are either in
    hand already or need a person."""
    task = load(db, task_id, lock=True)
    if task.status != FAILED:
        raise PropagationConflict(
            f"cannot retry: the task is {task.status}",
            [FieldProblem("status", f"the task is {task.status}; only failed ones are retried")],
        )
    task.next_attempt_at = now
    audited(db, vault, task, actor=actor, client=client, step="retry_requested")
    db.flush()
    return task


def mark_done(
    db: Session,
    vault: Vault,
    task_id: int,
    note: str,
    *,
    actor: str,
    now: datetime,
    client: str | None,
) -> ConsentPropagation:
    """Staff carried the opt-out out themselves (a partner's portal, a phone call): the task is
    done, with their note of what they did kept under the person's key (free text may name the
    person; the audit event only says that a note was written)."""
    text = note.strip()
    if not text or len(text) > MAX_NOTE:
        message = f"say what was done at the partner (1 to {MAX_NOTE} characters)"
        raise InvalidInput(f"note: {message}", [FieldProblem("note", message)])
    task = load(db, task_id, lock=True)
    if task.status not in CLOSABLE:
        closable = ", ".join(sorted(CLOSABLE))
        raise PropagationConflict(
            f"cannot mark done: the task is {task.status}",
            [FieldProblem("status", f"the task is {task.status}; only {closable} ones are closed")],
        )
    task.status, task.done_at, task.next_attempt_at = DONE, now, None
    try:
        task.note_ciphertext = vault.encrypt_for_subject(task.subject_id, text, _NOTE_CONTEXT)
    except SubjectShredded:
        task.note_ciphertext = None  # the person was erased since: nothing may name them now
    audited(db, vault, task, actor=actor, client=client, step="done_by_staff")
    db.flush()
    return task


@dataclass(frozen=True)
class Shown:
    """A task with whom it is about (the identities staff need to act at the partner) and the
    datastore's own instructions."""

    task: ConsentPropagation
    overdue: bool
    identities: list[tuple[str, str]]
    instructions: str
    note: str | None


def show(
    db: Session, vault: Vault, task_id: int, *, actor: str, now: datetime, client: str | None
) -> Shown:
    """The task with its person in clear; recorded as `subject.viewed`."""
    task = load(db, task_id)
    store = db.get(Datastore, task.datastore)
    try:
        revealed = reveal_identities(db, vault, task.subject_id)
        note = (
            vault.decrypt_for_subject(task.subject_id, task.note_ciphertext, _NOTE_CONTEXT)
            if task.note_ciphertext
            else None
        )
    except SubjectShredded:
        revealed, note = {}, None
    audit(
        db,
        AuditAction.subject_viewed,
        actor=actor,
        subject=vault.subject_hash(task.subject_id),
        target=f"consent_propagation:{task.id}",
        client=client,
        details={"propagation": task.id, "datastore": task.datastore},
    )
    identities = [(kind, value) for kind, values in sorted(revealed.items()) for value in values]
    instructions = str((store.config or {}).get("instructions", "")) if store else ""
    return Shown(task, is_overdue(db, task, now), identities, instructions.strip(), note)
