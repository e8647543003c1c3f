"""Staff console pages for rights requests: the due list, a request's page and its actions, and
staff entry of requests received by mail, phone or in a store.

Thin adapters over `dsr.service` and `dsr.workflow`, like the staff API. Post, redirect, get:
an action answers 303 to the request's page with `done=` naming one of a fixed set of messages
(a link cannot make the page say anything else). A refused action re-renders the page with the
service's words: 409 for what the request's status does not allow, 422 for missing input.

The list shows no identity and no free text, so listing is not a read of personal data; a
request's own page shows them, and each showing is recorded as `request.viewed`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from privacyops.dsr import corrections, fulfilment, notices, service, workflow
from privacyops.dsr.repository import RequestFilters
from privacyops.dsr.schemas import RequestIn
from privacyops.dsr.snapshot import Rules
from privacyops.dsr.status import CLOSED, OPEN, STAFF_CHANNELS, Channel, DenialReason, Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.errors import FieldProblem, InvalidInput, NotFound, PrivacyOpsError
from privacyops.models.dsr import DataRequest
from privacyops.models.types import utcnow
from privacyops.policy.states import US_STATES, state_name
from privacyops.policy.yamlsource import path_to_field
from privacyops.rights.calendar import local_date
from privacyops.rights.rules import RequestType
from privacyops.staff.console import render_console
from privacyops.staff.permissions import Permission
from privacyops.vault.service import Vault
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppSettings, AppVault, DbSession
from privacyops.web.templating import console_not_found, field_errors, sentence

router = AdminRouter(tags=["console"], include_in_schema=False)

REQUESTS_PATH = "/admin/requests"
PAGE_SIZE = 50
MAX_PAGE_NUMBER = 1_000_000
MAX_DUE_WITHIN = 366
DUE_SOON_DAYS = 7
MAX_BACKDATE = timedelta(days=365)
MAX_REFERENCE = 16

Reader = Annotated[Principal, require(Permission.requests_read)]
Enterer = Annotated[Principal, require(Permission.requests_enter)]
Decider = Annotated[Principal, require(Permission.requests_decide)]
Text = Annotated[str, Form(max_length=5000)]
Short = Annotated[str, Form(max_length=300)]
LongText = Annotated[str, Form(max_length=20000)]
Errors = dict[str, str]

CHANNEL_LABELS: Mapping[str, str] = {
    Channel.web: "Privacy Center form",
    Channel.api: "API",
    Channel.email: "Email",
    Channel.postal_mail: "Postal mail",
    Channel.phone: "Phone",
    Channel.in_store: "In a store",
}
STAFF_CHANNEL_ORDER = [c for c in Channel if c in STAFF_CHANNELS]
DENIAL_LABELS: Mapping[str, str] = {
    DenialReason.could_not_verify: "Could not verify the requester's identity",
    DenialReason.exemption: "Exemption (give its legal basis)",
    DenialReason.manifestly_unfounded_or_excessive: "Manifestly unfounded or excessive",
    DenialReason.not_a_resident: "Not a resident of a state granting the right",
    DenialReason.no_data_found: "No personal information found",
    DenialReason.duplicate: "Duplicate of a request being handled",
    DenialReason.other: "Other (explain)",
}
STATUS_GROUPS: Mapping[str, frozenset[Status] | None] = {
    "open": OPEN,
    "closed": CLOSED,
    "all": None,
}
LIST_FIELDS = ("status", "type", "state", "due_within", "overdue")


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _not_found() -> HTMLResponse:
    return console_not_found(
        "There is no request with this reference.",
        back_to=REQUESTS_PATH,
        back_label="Back to the requests",
    )


# --- where a request stands -------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Days left or overdue, counted in days of the requester's state (the law's calendar)."""

    text: str
    overdue: bool
    due_day: date

    @classmethod
    def of(cls, request: DataRequest, now: datetime) -> Standing:
        due = request.effective_due_at
        due_day = local_date(due, request.state)
        if request.status in CLOSED:
            return cls("Closed", False, due_day)
        today = local_date(now, request.state)
        if now > due:
            days = max(1, (today - due_day).days)
            return cls(f"Overdue by {days} day{'s' if days != 1 else ''}", True, due_day)
        left = (due_day - today).days
        if left == 0:
            return cls("Due today", False, due_day)
        return cls(f"{left} day{'s' if left != 1 else ''} left", False, due_day)


@dataclass(frozen=True)
class Row:
    request: DataRequest
    standing: Standing

    @property
    def type_label(self) -> str:
        return notices.type_label(self.request.type)


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filters: RequestFilters
    page: int


def _list_query(form: Mapping[str, str], page_value: str, now: datetime) -> ListQuery:
    """The list's filters from the URL. A due filter keeps to open requests: a closed request
    is neither due nor overdue."""
    problems: list[FieldProblem] = []
    status = form["status"] or "open"
    group: frozenset[Status] | None = None
    single = None
    if status in STATUS_GROUPS:
        group = STATUS_GROUPS[status]
    elif status in {s.value for s in Status}:
        single = status
    else:
        problems.append(FieldProblem("status", "unknown status"))
    if form["type"] and form["type"] not in {t.value for t in RequestType}:
        problems.append(FieldProblem("type", "unknown request type"))
    state = form["state"].upper()
    if state and state not in US_STATES:
        problems.append(FieldProblem("state", "unknown US state"))
    days = _number(form["due_within"], "due_within", MAX_DUE_WITHIN, problems)
    page = _number(page_value, "page", MAX_PAGE_NUMBER, problems) or 1
    if problems:
        raise InvalidInput("; ".join(p.render() for p in problems), problems)
    overdue = bool(form["overdue"])
    due_before = due_after = None
    if overdue or days:
        group = frozenset(s for s in OPEN if group is None or s in group)
        due_before = now + timedelta(days=days) if days else now
        due_after = None if overdue else now
    filters = RequestFilters(
        status=single,
        type=form["type"] or None,
        state=state or None,
        due_before=due_before,
        due_after=due_after,
        statuses=tuple(sorted(s.value for s in group)) if group is not None else None,
    )
    return ListQuery(filters, page)


def _number(value: str, name: str, most: int, problems: list[FieldProblem]) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= most:
        problems.append(FieldProblem(name, f"a whole number from 1 to {most}"))
        return None
    return int(text)


def _list_url(form: Mapping[str, str], page: int = 1) -> str:
    values = {k: v for k, v in form.items() if v}
    if page > 1:
        values["page"] = str(page)
    return f"{REQUESTS_PATH}?{urlencode(values)}" if values else REQUESTS_PATH


@router.get(REQUESTS_PATH, response_class=HTMLResponse)
def request_list(principal: Reader, request: Request, db: DbSession) -> Response:
    """Open requests, soonest due first, unless filtered otherwise. No identities."""
    params = request.query_params
    form = {name: params.get(name, "").strip()[:40] for name in LIST_FIELDS}
    if form["overdue"]:
        form["overdue"] = "1"
    now = utcnow()
    try:
        query = _list_query(form, params.get("page", ""), now)
        page = service.list_requests(db, query.filters, (query.page - 1) * PAGE_SIZE, PAGE_SIZE)
    except InvalidInput as invalid:
        return _list_page(principal, form, errors=field_errors(invalid.problems), status_code=422)
    rows = [Row(r, Standing.of(r, now)) for r in page.items]
    pages = max(1, -(-page.total // PAGE_SIZE))
    return _list_page(
        principal,
        form,
        rows=rows,
        total=page.total,
        first=page.offset + 1 if rows else 0,
        number=query.page,
        pages=pages,
        newer_url=_list_url(form, query.page - 1) if query.page > 1 else None,
        older_url=_list_url(form, query.page + 1) if query.page < pages else None,
    )


def _list_page(
    principal: Principal,
    form: Mapping[str, str],
    *,
    errors: Errors | None = None,
    status_code: int = 200,
    rows: list[Row] | None = None,
    **context: Any,
) -> HTMLResponse:
    return render_console(
        "admin/requests.html",
        principal,
        status_code=status_code,
        nav_current="requests",
        page_title="Requests",
        form=form,
        errors=errors or {},
        rows=rows,
        statuses=[s.value for s in Status],
        types=list(notices.TYPE_LABELS.items()),
        states=sorted(US_STATES.items()),
        state_names=US_STATES,
        channel_labels=CHANNEL_LABELS,
        may_enter=principal.may(Permission.requests_enter),
        **context,
    )


# --- staff entry ------------------------------------------------------------------------------

NEW_PATH = f"{REQUESTS_PATH}/new"
ENTRY_FIELDS = (
    "channel",
    "type",
    "state",
    "email",
    "phone",
    "loyalty_id",
    "details",
    "corrections",
    "appeal_of",
    "received_at",
    "specific_pieces",
    "sensitive_deletion",
    "entry_key",
)


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _entry_page(
    principal: Principal,
    form: Mapping[str, str],
    *,
    errors: Errors | None = None,
    status_code: int = 200,
    refusal: str | None = None,
) -> HTMLResponse:
    return render_console(
        "admin/requests_new.html",
        principal,
        status_code=status_code,
        nav_current="requests",
        page_title="Enter a request",
        form=form,
        errors=errors or {},
        refusal=refusal,
        channels=[(c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNEL_ORDER],
        types=list(notices.TYPE_LABELS.items()),
        states=sorted(US_STATES.items()),
        now=_minute(utcnow()),
    )


@router.get(NEW_PATH, response_class=HTMLResponse)
def entry_form(principal: Enterer) -> Response:
    form = dict.fromkeys(ENTRY_FIELDS, "")
    form["received_at"] = _minute(utcnow())
    # One key per form shown: submitting the same form twice (a double click, the back
    # button) gives back the first request instead of entering a second.
    form["entry_key"] = secrets.token_urlsafe(18)
    return _entry_page(principal, form)


def _received_at(value: str, now: datetime) -> datetime:
    """When the request arrived (UTC): now by default, earlier for a letter that came in
    before it was entered, never in the future: the due date counts from it."""
    text = value.strip()
    if not text:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid("received_at", "a date and time such as 2026-11-27T09:30") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment > now:
        raise _invalid("received_at", "cannot be in the future")
    if moment < now - MAX_BACKDATE:
        raise _invalid("received_at", "more than a year ago; check the date")
    return moment


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", [FieldProblem(name, message)])


def _corrections(text: str) -> list[dict[str, str]] | None:
    """`field = new value`, one a line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    found = []
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep:
            raise _invalid("corrections", "write each correction as: field = correct value")
        found.append({"field": name.strip(), "value": value.strip()})
    return found


def _request_in(form: Mapping[str, str]) -> RequestIn:
    data: dict[str, Any] = {
        "type": form["type"],
        "state": form["state"],
        "email": form["email"],
        "phone": form["phone"] or None,
        "loyalty_id": form["loyalty_id"] or None,
        "details": form["details"] or None,
        "corrections": _corrections(form["corrections"]),
        "appeal_of": form["appeal_of"] or None,
        "specific_pieces": bool(form["specific_pieces"]),
        "sensitive_deletion": bool(form["sensitive_deletion"]),
    }
    try:
        return RequestIn.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                path_to_field([p for p in err["loc"] if isinstance(p, str | int)]),
                str(err.get("msg", "invalid value")),
            )
            for err in exc.errors()
        ]
        raise InvalidInput("invalid fields", problems) from None


def _channel(value: str) -> Channel:
    if value not in {c.value for c in STAFF_CHANNELS}:
        raise _invalid("channel", "choose how the request arrived")
    return Channel(value)


@router.post(NEW_PATH, response_class=HTMLResponse)
def entry_submit(
    principal: Enterer,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    channel: Short = "",
    type: Short = "",
    state: Short = "",
    email: Short = "",
    phone: Short = "",
    loyalty_id: Short = "",
    details: LongText = "",
    corrections: LongText = "",
    appeal_of: Short = "",
    received_at: Short = "",
    specific_pieces: Short = "",
    sensitive_deletion: Short = "",
    entry_key: Short = "",
) -> Response:
    """Enter a request that arrived by email, post, phone or in a store, with its channel and
    the time it arrived; the requester then verifies by the code mailed to them, as online."""
    form = {
        "channel": channel,
        "type": type,
        "state": state,
        "email": email,
        "phone": phone,
        "loyalty_id": loyalty_id,
        "details": details,
        "corrections": corrections,
        "appeal_of": appeal_of,
        "received_at": received_at,
        "specific_pieces": "1" if specific_pieces else "",
        "sensitive_deletion": "1" if sensitive_deletion else "",
        "entry_key": entry_key,
    }
    try:
        submitted = _enter(request, db, vault, settings, principal, form)
    except InvalidInput as invalid:
        db.rollback()
        return _entry_page(principal, form, errors=field_errors(invalid.problems), status_code=422)
    except PrivacyOpsError as refused:
        db.rollback()
        return _entry_page(
            principal, form, refusal=sentence(refused.message), status_code=refused.status_code
        )
    return _see(f"{REQUESTS_PATH}/{submitted.request.id}?done=entered")


def _enter(
    request: Request,
    db: Session,
    vault: Vault,
    settings: Any,
    principal: Principal,
    form: Mapping[str, str],
) -> service.Submitted:
    problems: list[FieldProblem] = []
    checks: list[Callable[[], object]] = [
        lambda: _channel(form["channel"]),
        lambda: _received_at(form["received_at"], utcnow()),
        lambda: _request_in(form),
    ]
    results: list[object] = []
    for check in checks:
        try:
            results.append(check())
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
    if problems:
        raise InvalidInput("invalid fields", problems)
    channel, received, data = results
    assert isinstance(channel, Channel)
    assert isinstance(received, datetime)
    assert isinstance(data, RequestIn)
    try:
        policy = service.policy_in_force(db, received)
    except NotFound:
        raise _invalid("received_at", "no privacy policy version was in force then") from None
    return service.submit(
        db,
        vault,
        policy,
        data,
        channel,
        received,
        links=StatusLinks.from_settings(settings),
        idempotency_key=form["entry_key"] or None,
        staff=principal.actor,
        client=client_address(request),
    )


# --- one request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    form: str  # which action's form
    message: str


@dataclass
class Forms:
    """Values kept in an action's form after a refusal, and its field errors."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, Errors] = field(default_factory=dict)

    def value(self, form: str, name: str) -> str:
        return self.values.get(form, {}).get(name, "")

    def error(self, form: str, name: str) -> str:
        return self.errors.get(form, {}).get(name, "")


def _flash(done: str, found: DataRequest) -> str | None:
    """One of a fixed set of messages: the query string picks one, it cannot write one."""
    approved = (
        "Approved. The request is completed and the requester was sent the completion notice."
        if found.status == Status.completed
        else "Approved. The request is in progress until its tasks are done; then approve it "
        "again to complete it."
    )
    due = found.effective_due_at
    messages = {
        "entered": f"Entered the request received by {CHANNEL_LABELS.get(found.channel, '')}. "
        "The requester was sent the receipt"
        + (" and a verification code." if found.verification != "none" else "."),
        "approved": approved,
        "denied": "Denied. The requester was sent the reasons"
        + (" and how to appeal." if notices.appeal_until(found) else "."),
        "extended": f"Extended: now due {local_date(due, found.state).isoformat()}. "
        "The requester was told why.",
        "canceled": "Canceled.",
        "noted": "Note added.",
        "task_added": "Task added.",
        "task_done": "Task updated.",
        "retried": "The failed datastores will be tried again now.",
        "corrections": "Corrections saved; they are applied where the person's rows are.",
    }
    return messages.get(done)


@dataclass(frozen=True)
class Abilities:
    """Which action forms the page offers, from the caller's role and the request's status.
    The service decides again when a form is sent (a page may be stale)."""

    approve: bool
    deny: bool
    extend: bool
    extend_note: str | None
    cancel: bool
    tasks: bool
    note: bool


def _abilities(principal: Principal, found: DataRequest, now: datetime) -> Abilities:
    decide = principal.may(Permission.requests_decide)
    is_open = found.status in OPEN
    extend_note = None
    if found.extended_due_at is not None:
        extend_note = "Already extended once (the law allows one extension)."
    elif now > found.due_at:
        extend_note = "The first due date has passed: an extension must be notified before it."
    elif not Rules(found.rules_snapshot).extension_days:
        extend_note = "The law gives no extension for this request."
    return Abilities(
        approve=decide and is_open and found.verified_at is not None,
        deny=decide and is_open,
        extend=decide and is_open and extend_note is None,
        extend_note=extend_note if decide and is_open else None,
        cancel=decide and is_open,
        tasks=decide,
        note=principal.may(Permission.requests_read),
    )


def _detail_page(
    request: Request,
    db: Session,
    vault: Vault,
    principal: Principal,
    request_id: str,
    *,
    status_code: int = 200,
    flash_key: str = "",
    refusal: Refusal | None = None,
    forms: Forms | None = None,
) -> Response:
    if len(request_id) > MAX_REFERENCE:
        return _not_found()
    try:
        view = service.view_request(
            db, vault, request_id, actor=principal.actor, client=client_address(request)
        )
    except NotFound:
        return _not_found()
    found = view.request
    now = utcnow()
    return render_console(
        "admin/requests_detail.html",
        principal,
        status_code=status_code,
        nav_current="requests",
        page_title=f"Request {found.id}",
        view=view,
        r=found,
        rules=found.rules_snapshot,
        deadline=found.rules_snapshot.get("deadline") or {},
        standing=Standing.of(found, now),
        type_label=notices.type_label(found.type),
        state_label=state_name(found.state),
        channel_label=CHANNEL_LABELS.get(found.channel, found.channel),
        appeal_until=notices.appeal_until(found),
        local_day=lambda moment: local_date(moment, found.state).isoformat(),
        can=_abilities(principal, found, now),
        flash=_flash(flash_key, found) if flash_key else None,
        refusal=refusal,
        forms=forms or Forms(),
        denial_reasons=[(r.value, DENIAL_LABELS[r]) for r in DenialReason],
        denial_label=DENIAL_LABELS.get(found.denial_reason or "", found.denial_reason),
        pending="pending",
    )


@router.get(REQUESTS_PATH + "/{request_id}", response_class=HTMLResponse)
def request_detail(
    principal: Reader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: str,
    done: str = "",
) -> Response:
    """One request in full, identities included: recorded as `request.viewed`."""
    return _detail_page(request, db, vault, principal, request_id, flash_key=done[:20])


def _act(
    request: Request,
    db: Session,
    vault: Vault,
    principal: Principal,
    request_id: str,
    *,
    form: str,
    kept: dict[str, str],
    done: str,
    action: Callable[[], object],
) -> Response:
    """Run one action; its refusal is shown on the request's page, next to the form."""
    if len(request_id) > MAX_REFERENCE:
        return _not_found()
    try:
        action()
    except NotFound:
        db.rollback()
        return _not_found()
    except PrivacyOpsError as refused:
        db.rollback()
        message = refused.problems[0].message if refused.problems else refused.message
        return _detail_page(
            request,
            db,
            vault,
            principal,
            request_id,
            status_code=refused.status_code,
            refusal=Refusal(form, sentence(message).rstrip(".") + "."),
            forms=Forms({form: kept}, {form: field_errors(refused.problems)}),
        )
    return _see(f"{REQUESTS_PATH}/{request_id}?done={done}")


def _links(settings: Any) -> StatusLinks:
    return StatusLinks.from_settings(settings)


@router.post(REQUESTS_PATH + "/{request_id}/approve", response_class=HTMLResponse)
def approve(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    note: Text = "",
) -> Response:
    def action() -> object:
        return workflow.approve(
            db,
            vault,
            _links(settings),
            request_id,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
            note=note.strip() or None,
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="approve",
        kept={"note": note},
        done="approved",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/deny", response_class=HTMLResponse)
def deny(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    reason: Short = "",
    detail: Text = "",
) -> Response:
    def action() -> object:
        if not reason:
            raise _invalid("reason", "choose the reason")
        return workflow.deny(
            db,
            vault,
            _links(settings),
            request_id,
            reason,
            detail,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="deny",
        kept={"reason": reason, "detail": detail},
        done="denied",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/extend", response_class=HTMLResponse)
def extend(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    reason: Text = "",
) -> Response:
    def action() -> object:
        return workflow.extend(
            db,
            vault,
            _links(settings),
            request_id,
            reason,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="extend",
        kept={"reason": reason},
        done="extended",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/cancel", response_class=HTMLResponse)
def cancel(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: str,
    reason: Text = "",
) -> Response:
    def action() -> object:
        return workflow.cancel(
            db,
            vault,
            request_id,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
            note=reason,
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="cancel",
        kept={"reason": reason},
        done="canceled",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/notes", response_class=HTMLResponse)
def add_note(
    principal: Reader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: str,
    note: Text = "",
) -> Response:
    def action() -> object:
        return workflow.add_note(
            db,
            vault,
            request_id,
            note,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="note",
        kept={"note": note},
        done="noted",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/tasks", response_class=HTMLResponse)
def add_task(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: str,
    name: Short = "",
) -> Response:
    def action() -> object:
        return workflow.add_task(db, request_id, name, actor=principal.actor, now=utcnow())

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="task",
        kept={"name": name},
        done="task_added",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/tasks/{task_id}/done", response_class=HTMLResponse)
def task_done(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: str,
    task_id: str,
    result: Text = "",
    failed: Short = "",
) -> Response:
    if not task_id.isdigit() or not 1 <= int(task_id) <= 2**31 - 1:
        return _not_found()

    def action() -> object:
        return workflow.task_done(
            db,
            vault,
            request_id,
            int(task_id),
            result,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
            failed=bool(failed),
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form=f"task-{task_id}",
        kept={"result": result, "failed": "1" if failed else ""},
        done="task_done",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/retry", response_class=HTMLResponse)
def retry(
    principal: Decider, request: Request, db: DbSession, vault: AppVault, request_id: str
) -> Response:
    def action() -> object:
        return fulfilment.retry_now(
            db,
            vault,
            request_id,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="retry",
        kept={},
        done="retried",
        action=action,
    )


@router.post(REQUESTS_PATH + "/{request_id}/corrections", response_class=HTMLResponse)
async def map_corrections(
    principal: Decider, request: Request, db: DbSession, vault: AppVault, request_id: str
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    changes = [
        (form.get(f"target_{n}", "").strip(), form.get(f"value_{n}", "").strip())
        for n in range(3)
        if form.get(f"target_{n}", "").strip()
    ]

    def action() -> object:
        return corrections.set_changes(
            db,
            vault,
            request_id,
            changes,
            actor=principal.actor,
            now=utcnow(),
            client=client_address(request),
        )

    kept = {k: v for k, v in form.items() if k.startswith(("target_", "value_"))}
    return _act(
        request,
        db,
        vault,
        principal,
        request_id,
        form="corrections",
        kept=kept,
        done="corrections",
        action=action,
    )


# --- the dashboard ----------------------------------------------------------------------------


def dashboard_counts(db: Session, principal: Principal) -> service.DueCounts | None:
    """Due-soon and overdue counts for roles that follow requests; None for the others."""
    if not principal.may(Permission.requests_read):
        return None
    return service.due_counts(db, utcnow(), DUE_SOON_DAYS)
