"""Opt-out propagation over HTTP for staff: the list of tasks (`consent.read`), trying a failed one
again now and closing one carried out by hand (`consent.record`). Thin adapters over
`consent.propagation_staff`; errors are problem+json (404 unknown task, 409 wrong status, 422
bad input naming the field).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from privacyops.consent import propagation_staff as staff
from privacyops.jobs.transactional import enqueue_after_commit
from privacyops.models.consent import ConsentPropagation
from privacyops.models.types import utcnow
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppVault, DbSession
from privacyops.web.problems import PROBLEM_JSON

router = AdminRouter(prefix="/api/v1/consent/propagations", tags=["consent"])

Reader = Annotated[Principal, require(Permission.consent_read)]
Recorder = Annotated[Principal, require(Permission.consent_record)]
TaskId = Annotated[int, Path(ge=1, le=staff.MAX_ID, description="The task's id.")]
JOB = "consent.propagate"
_PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {PROBLEM_JSON: {}},
}
_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 422), _PROBLEM)


class PropagationOut(BaseModel):
    """One opt-out passed on to one partner; no personal data."""

    id: int
    datastore: str
    recipient: str
    kind: str
    status: str
    due_on: date
    overdue: bool
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    done_at: datetime | None


class PropagationList(BaseModel):
    items: list[PropagationOut]
    total: int
    offset: int
    limit: int


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Annotated[
        str, Field(min_length=1, max_length=staff.MAX_NOTE, description="What was done.")
    ]


def task_out(task: ConsentPropagation, overdue: bool) -> PropagationOut:
    return PropagationOut(
        id=task.id,
        datastore=task.datastore,
        recipient=task.recipient,
        kind=task.kind,
        status=task.status,
        due_on=task.due_on,
        overdue=overdue,
        attempts=task.attempts,
        last_error=task.last_error,
        next_attempt_at=task.next_attempt_at,
        created_at=task.created_at,
        done_at=task.done_at,
    )


@router.get("", response_model=PropagationList, responses=_ERRORS)
def list_propagations(
    principal: Reader,
    db: DbSession,
    status: Annotated[
        str | None, Query(max_length=32, description="A status, or `open` for every open one.")
    ] = None,
    overdue: Annotated[bool, Query(description="Only tasks open past their due day.")] = False,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=staff.MAX_PAGE)] = 50,
) -> PropagationList:
    """Opt-outs passed on to partners, soonest due first (due within 15 business days,
    11 CCR 7026(f))."""
    page = staff.list_tasks(
        db, utcnow(), status=status, overdue=overdue, offset=offset, limit=limit
    )
    return PropagationList(
        items=[task_out(row.task, row.overdue) for row in page.items],
        total=page.total,
        offset=offset,
        limit=limit,
    )


@router.post("/{propagation_id}/retry", response_model=PropagationOut, responses=_ERRORS)
def retry(
    principal: Recorder, request: Request, db: DbSession, vault: AppVault, propagation_id: TaskId
) -> PropagationOut:
    """Try a failed task again now, without waiting for its back-off."""
    now = utcnow()
    task = staff.retry_now(
        db, vault, propagation_id, actor=principal.actor, now=now, client=client_address(request)
    )
    enqueue_after_commit(db, request.app.state.jobs, JOB)
    return task_out(task, staff.is_overdue(db, task, now))


@router.post("/{propagation_id}/done", response_model=PropagationOut, responses=_ERRORS)
def done(
    principal: Recorder,
    request: Request,
    db: DbSession,
    vault: AppVault,
    propagation_id: TaskId,
    body: DoneIn,
) -> PropagationOut:
    """Close a task staff carried out themselves (manual, failed, or waiting for a partner that
    confirmed another way), saying what was done."""
    now = utcnow()
    task = staff.mark_done(
        db,
        vault,
        propagation_id,
        body.note,
        actor=principal.actor,
        now=now,
        client=client_address(request),
    )
    return task_out(task, False)
