"""Staff console pages for opt-outs passed on to partners: the list (filters by status and
overdue, no one named), one task with whom it is about (recorded as `subject.viewed`: staff
need the person's identities to carry a manual task out), and the two actions, retry a failed
task now and mark a task done with a note.

Post, redirect, get, as the request pages do: an action answers 303 to the list with `done=`
naming one of a fixed set of messages. A refused action re-renders the list with the service's
words: 404 for an unknown task, 409 for a status that does not allow it, 422 for a missing
note. Forms carry the session's CSRF token (checked by `require`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from privacyops.consent import propagation_staff as staff
from privacyops.consent.propagation import OPEN, STATUSES
from privacyops.errors import InvalidInput, NotFound, PrivacyOpsError
from privacyops.jobs.transactional import enqueue_after_commit
from privacyops.models.types import utcnow
from privacyops.staff.console import render_console
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppVault, DbSession
from privacyops.web.templating import console_not_found, field_errors, sentence

router = AdminRouter(tags=["console"], include_in_schema=False)

PROPAGATIONS_PATH = "/admin/consent/propagations"
NAV_KEY = "consent_propagations"
PAGE_SIZE = 50
MAX_PAGE_NUMBER = 1_000_000
JOB = "consent.propagate"

Reader = Annotated[Principal, require(Permission.consent_read)]
Recorder = Annotated[Principal, require(Permission.consent_record)]
Note = Annotated[str, Form(max_length=staff.MAX_NOTE * 2)]

DONE_MESSAGES: Mapping[str, str] = {
    "retried": "The task is being tried again now.",
    "closed": "The task is marked done, with your note.",
}
STATUS_LABELS: Mapping[str, str] = {
    "pending": "Pending",
    "awaiting_partner": "Waiting for the partner to confirm",
    "manual": "Needs a person",
    "failed": "Failed (retried after a back-off)",
    "done": "Done",
}


def _not_found() -> HTMLResponse:
    return console_not_found(
        "There is no opt-out task with this number.",
        back_to=PROPAGATIONS_PATH,
        back_label="Back to the opt-outs",
    )


def _task_id(value: str) -> int | None:
    """The path's task number, or None for anything that cannot be one (a 404, like unknown)."""
    if not value.isdigit() or not 1 <= int(value) <= staff.MAX_ID:
        return None
    return int(value)


def _list_url(form: Mapping[str, str], page: int = 1) -> str:
    values = {k: v for k, v in form.items() if v}
    if page > 1:
        values["page"] = str(page)
    return f"{PROPAGATIONS_PATH}?{urlencode(values)}" if values else PROPAGATIONS_PATH


def _render_list(
    principal: Principal,
    db: Session,
    form: Mapping[str, str],
    page_value: str = "",
    *,
    status_code: int = 200,
    refusal: str | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    page_text = page_value.strip()
    if page_text and (not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE_NUMBER):
        errors["page"] = f"A whole number from 1 to {MAX_PAGE_NUMBER}"
    try:
        staff.check_status(form["status"])
    except InvalidInput as refused:
        errors.update(field_errors(refused.problems))
    rows: list[staff.Listed] | None = None
    total, number = 0, int(page_text) if page_text and not errors else 1
    if errors:
        status_code = 422
    else:
        listing = staff.list_tasks(
            db,
            utcnow(),
            status=form["status"],
            overdue=bool(form["overdue"]),
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        rows, total = listing.items, listing.total
    pages = max(1, -(-total // PAGE_SIZE))
    return render_console(
        "admin/consent_propagations.html",
        principal,
        status_code=status_code,
        nav_current=NAV_KEY,
        page_title="Opt-outs passed on to partners",
        form=form,
        errors=errors,
        rows=rows,
        total=total,
        first=(number - 1) * PAGE_SIZE + 1 if rows else 0,
        number=number,
        pages=pages,
        newer_url=_list_url(form, number - 1) if rows is not None and number > 1 else None,
        older_url=_list_url(form, number + 1) if rows is not None and number < pages else None,
        statuses=[(s, STATUS_LABELS[s]) for s in STATUSES],
        status_labels=STATUS_LABELS,
        closable=staff.CLOSABLE,
        open_statuses=OPEN,
        may_act=principal.may(Permission.consent_record),
        refusal=refusal,
        flash=flash,
    )


def _list_form(request: Request) -> dict[str, str]:
    params = request.query_params
    return {
        "status": params.get("status", "open").strip()[:40],
        "overdue": "1" if params.get("overdue", "").strip() else "",
    }


@router.get(PROPAGATIONS_PATH, response_class=HTMLResponse)
def propagation_list(principal: Reader, request: Request, db: DbSession) -> Response:
    """Open tasks, soonest due first, unless filtered otherwise. No one is named."""
    flash = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return _render_list(
        principal, db, _list_form(request), request.query_params.get("page", ""), flash=flash
    )


@router.get(PROPAGATIONS_PATH + "/{propagation_id}", response_class=HTMLResponse)
def propagation_detail(
    principal: Recorder, request: Request, db: DbSession, vault: AppVault, propagation_id: str
) -> Response:
    """One task with its person, to carry it out at the partner (recorded as subject.viewed)."""
    task_id = _task_id(propagation_id)
    if task_id is None:
        return _not_found()
    try:
        shown = staff.show(
            db, vault, task_id, actor=principal.actor, now=utcnow(), client=client_address(request)
        )
    except NotFound:
        return _not_found()
    return render_console(
        "admin/consent_propagation.html",
        principal,
        nav_current=NAV_KEY,
        page_title=f"Opt-out task {task_id}",
        shown=shown,
        t=shown.task,
        status_labels=STATUS_LABELS,
        closable=staff.CLOSABLE,
        may_act=True,
    )


def _act(
    principal: Principal,
    request: Request,
    db: Session,
    propagation_id: str,
    *,
    done: str,
    action: Callable[[int], object],
) -> Response:
    """Run one action on a task; a refusal is shown above the list."""
    task_id = _task_id(propagation_id)
    if task_id is None:
        return _not_found()
    try:
        action(task_id)
    except NotFound:
        db.rollback()
        return _not_found()
    except PrivacyOpsError as refused:
        db.rollback()
        message = refused.problems[0].message if refused.problems else refused.message
        text = f"Task {task_id}: {sentence(message).rstrip('.')}."
        form = {"status": "open", "overdue": ""}
        return _render_list(principal, db, form, status_code=refused.status_code, refusal=text)
    return RedirectResponse(f"{PROPAGATIONS_PATH}?done={done}", status_code=303)


@router.post(PROPAGATIONS_PATH + "/{propagation_id}/retry", response_class=HTMLResponse)
def retry(
    principal: Recorder, request: Request, db: DbSession, vault: AppVault, propagation_id: str
) -> Response:
    def action(task_id: int) -> Any:
        task = staff.retry_now(
            db, vault, task_id, actor=principal.actor, now=utcnow(), client=client_address(request)
        )
        enqueue_after_commit(db, request.app.state.jobs, JOB)
        return task

    return _act(principal, request, db, propagation_id, done="retried", action=action)


@router.post(PROPAGATIONS_PATH + "/{propagation_id}/done", response_class=HTMLResponse)
def mark_done(
    principal: Recorder,
    request: Request,
    db: DbSession,
    vault: AppVault,
    propagation_id: str,
    note: Note = "",
) -> Response:
    def action(task_id: int) -> Any:
        return staff.mark_done(
            db,
            vault,
            task_id,
            note,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    return _act(principal, request, db, propagation_id, done="closed", action=action)


def overdue_for(db: Session, principal: Principal) -> int | None:
    """The dashboard's count of overdue opt-out tasks, for roles that read consent."""
    if not principal.may(Permission.consent_read):
        return None
    return staff.overdue_count(db, utcnow())
