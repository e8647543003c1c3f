"""Staff decisions on a request: approve, deny, extend, cancel, notes and tasks. Plain Python:
the API checks the permission, the caller commits.

Every change is a request event and an audit event; transitions follow the one table in
`status.py` and an action the table does not allow answers 409 naming the current status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.dsr import notices, repository
from privacyops.dsr.records import FULFIL_FLAG, add_event, audit, load, move, seal
from privacyops.dsr.snapshot import Rules
from privacyops.dsr.status import (
    CLOSED,
    DETAIL_REQUIRED,
    DenialReason,
    InvalidTransition,
    Status,
)
from privacyops.dsr.tokens import StatusLinks
from privacyops.errors import FieldProblem, InvalidInput, NotFound
from privacyops.models.dsr import DataRequest, RequestTask
from privacyops.rights.rules import extension_due_at
from privacyops.vault.service import Vault

MAX_TEXT = 5000
MAX_TASK_NAME = 200


class TaskStatus:
    pending = "pending"
    done = "done"
    failed = "failed"


def _required_text(field: str, value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_TEXT:
        message = f"{what} (1 to {MAX_TEXT} characters)"
        raise InvalidInput(f"{field}: {message}", [FieldProblem(field=field, message=message)])
    return text


def done_tasks(db: Session, request: DataRequest) -> list[RequestTask]:
    return [t for t in repository.tasks_of(db, request.id) if t.status == TaskStatus.done]


def pending_manual(db: Session, request: DataRequest) -> list[RequestTask]:
    """Staff tasks not done yet (manual datastores, or tasks staff added)."""
    return [t for t in repository.tasks_of(db, request.id) if t.status == TaskStatus.pending]


def _pending_tasks(db: Session, request: DataRequest) -> list[_Pending]:
    """Everything that keeps a request open: staff tasks, and the connectors' datastore work
    (never complete a request while any datastore task is not done)."""
    from privacyops.dsr.fulfilment import unfinished  # here: fulfilment imports us

    pending: list[_Pending] = list(pending_manual(db, request))
    pending += [_Engine(name) for name in unfinished(db, request)]
    return pending


@dataclass(frozen=True)
class _Engine:
    name: str


_Pending = RequestTask | _Engine


def approve(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request_id: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
    note: str | None = None,
) -> DataRequest:
    """Approve a verified request: completed when no task is pending (the completion notice is
    queued), otherwise in progress until its tasks are done and it is approved again.

    Never before verification: an unverified request gets no answer (nor any data).
    """
    request = load(db, request_id, lock=True)
    if request.verified_at is None or request.status in (
        Status.received,
        Status.awaiting_verification,
    ):
        raise InvalidTransition(f"cannot approve: the request is {request.status} (not verified)")
    pending = _pending_tasks(db, request)
    if not pending:
        return complete(db, vault, links, request, actor=actor, now=now, client=client, note=note)
    if request.status == Status.in_progress:
        names = ", ".join(t.name for t in pending)
        raise InvalidTransition(
            f"cannot approve: the request is in_progress with tasks pending ({names})"
        )
    move(
        db,
        vault,
        request,
        Status.in_progress,
        actor=actor,
        action=AuditAction.request_approved,
        now=now,
        client=client,
        note=note,
        what="approve",
    )
    return request


def complete(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
    note: str | None = None,
) -> DataRequest:
    if _pending_tasks(db, request):
        raise InvalidTransition("cannot complete: tasks are still pending")
    move(
        db,
        vault,
        request,
        Status.completed,
        actor=actor,
        action=AuditAction.request_completed,
        now=now,
        client=client,
        note=note,
        what="complete",
    )
    request.responded_at = now
    notices.completion(db, vault, links, request, now=now)
    db.flush()
    return request


def deny(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request_id: str,
    reason: DenialReason | str,
    detail: str | None,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    """Deny with a reason from the fixed list; an exemption needs its legal basis and `other`
    its explanation. The denial notice explains the appeal right where the state gives one."""
    request = load(db, request_id, lock=True)
    return deny_request(
        db, vault, links, request, reason, detail, actor=actor, now=now, client=client
    )


def deny_request(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    reason: DenialReason | str,
    detail: str | None,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    code = _reason(reason)
    text = (detail or "").strip() or None
    if code in DETAIL_REQUIRED:
        what = "give the legal basis" if code is DenialReason.exemption else "explain the reason"
        text = _required_text("detail", detail, what)
    elif text is not None and len(text) > MAX_TEXT:
        _required_text("detail", text, "at most")
    move(
        db,
        vault,
        request,
        Status.denied,
        actor=actor,
        action=AuditAction.request_denied,
        now=now,
        client=client,
        what="deny",
        details={"reason": code.value},
    )
    request.denial_reason = code.value
    request.denial_detail_ciphertext = seal(vault, request, "denial_detail", text) if text else None
    request.responded_at = now
    notices.denial(db, vault, links, request, reason=code, detail=text, now=now)
    db.flush()
    return request


def _reason(reason: DenialReason | str) -> DenialReason:
    try:
        return DenialReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in DenialReason)
        message = f"one of {known}"
        raise InvalidInput(f"reason: {message}", [FieldProblem("reason", message)]) from None


def extend(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request_id: str,
    reason: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    """The one extension the law allows, with a reason, notified before the first period ends
    (the notice is queued now; an extension after the first due date is refused)."""
    request = load(db, request_id, lock=True)
    text = _required_text("reason", reason, "say why more time is needed")
    if request.status in CLOSED:
        raise InvalidTransition(f"cannot extend: the request is {request.status}")
    if request.extended_due_at is not None:
        raise InvalidTransition("cannot extend: the request was already extended once")
    if now > request.due_at:
        raise InvalidTransition(
            "cannot extend: the first due date has passed; an extension must be notified before it"
        )
    rules = Rules(request.rules_snapshot)
    new_due = extension_due_at(rules.deadline(), request.state) if rules.extension_days else None
    if new_due is None:
        raise InvalidTransition("cannot extend: the law gives no extension for this request")
    previous = request.due_at
    request.extended_due_at = new_due
    request.extended_at = now
    request.extension_reason = text
    add_event(db, vault, request, actor=actor, action="extended", now=now, note=text)
    audit(
        db,
        vault,
        request,
        AuditAction.request_extended,
        actor=actor,
        client=client,
        details={"days": rules.extension_days, "due_at": new_due.isoformat()},
    )
    notices.extension(db, vault, links, request, previous_due_at=previous, reason=text, now=now)
    db.flush()
    return request


def cancel(
    db: Session,
    vault: Vault,
    request_id: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
    note: str | None = None,
) -> DataRequest:
    request = load(db, request_id, lock=True)
    move(
        db,
        vault,
        request,
        Status.canceled,
        actor=actor,
        action=AuditAction.request_canceled,
        now=now,
        client=client,
        note=(note or "").strip() or None,
        what="cancel",
    )
    return request


def add_note(
    db: Session,
    vault: Vault,
    request_id: str,
    note: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    request = load(db, request_id)
    text = _required_text("note", note, "write the note")
    add_event(db, vault, request, actor=actor, action="note", now=now, note=text)
    audit(db, vault, request, AuditAction.request_note_added, actor=actor, client=client)
    return request


def add_task(db: Session, request_id: str, name: str, *, actor: str, now: datetime) -> RequestTask:
    """A manual fulfilment task (one per datastore); the next issue's connectors run them."""
    request = load(db, request_id)
    if request.status in CLOSED:
        raise InvalidTransition(f"cannot add a task: the request is {request.status}")
    title = (name or "").strip()
    if not title or len(title) > MAX_TASK_NAME:
        message = f"name the datastore (1 to {MAX_TASK_NAME} characters)"
        raise InvalidInput(f"name: {message}", [FieldProblem("name", message)])
    task = RequestTask(request_id=request.id, name=title, status=TaskStatus.pending, created_at=now)
    repository.add(db, task)
    return task


def add_tasks(
    db: Session, request_id: str, names: Sequence[str], *, actor: str, now: datetime
) -> list[RequestTask]:
    return [add_task(db, request_id, name, actor=actor, now=now) for name in names]


def task_done(
    db: Session,
    vault: Vault,
    request_id: str,
    task_id: int,
    result: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
    failed: bool = False,
) -> RequestTask:
    request = load(db, request_id, lock=True)
    task = repository.get_task(db, request.id, task_id)
    if task is None:
        raise NotFound(f"request {request.id} has no task {task_id}")
    if request.status in CLOSED:
        raise InvalidTransition(f"cannot change a task: the request is {request.status}")
    if request.verified_at is None:
        raise InvalidTransition(
            f"cannot work on the request: it is {request.status} (not verified)"
        )
    if task.status != TaskStatus.pending:
        raise InvalidTransition(f"task {task.id} is already {task.status}")
    text = _required_text("result", result, "describe what was done and found")
    task.status = TaskStatus.failed if failed else TaskStatus.done
    # The datastore work may go on now that a person did their part (see `web.deps`).
    db.info.setdefault(FULFIL_FLAG, set()).add(request.id)
    task.result_ciphertext = seal(vault, request, f"task:{task.id}", text)
    task.done_by = actor
    task.done_at = now
    add_event(
        db,
        vault,
        request,
        actor=actor,
        action=f"task_{task.status}",
        now=now,
        note=f"{task.name}: {text}",
    )
    audit(
        db,
        vault,
        request,
        AuditAction.request_task_done,
        actor=actor,
        client=client,
        details={"task": task.id, "status": task.status},
    )
    db.flush()
    return task
