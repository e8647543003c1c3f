"""Rights-request JSON API: the public intake and verification routes, and the staff routes.

Public writes are rate-limited per client address (`rate_limit_public`, 429 with Retry-After)
and their bodies capped at 32 KB (413). Staff routes each declare their permission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from privacyops.dsr import corrections, fulfilment, repository, service, workflow
from privacyops.dsr.notices import appeal_until
from privacyops.dsr.schemas import (
    CodeCheckOut,
    CorrectionsIn,
    DatastoreTaskOut,
    DenyIn,
    EventOut,
    IdentityOut,
    NoteIn,
    ReasonIn,
    RequestCreated,
    RequestDetail,
    RequestIn,
    RequestList,
    RequestStatusOut,
    RequestSummary,
    ResendIn,
    ResendOut,
    StaffRequestIn,
    TaskDoneIn,
    TaskIn,
    TaskOut,
    VerifyIn,
)
from privacyops.dsr.status import STAFF_CHANNELS, Channel
from privacyops.dsr.tokens import StatusLinks
from privacyops.errors import FieldProblem, InvalidInput, PrivacyOpsError
from privacyops.models.dsr import DataRequest
from privacyops.models.types import utcnow
from privacyops.policy.yamlsource import path_to_field
from privacyops.ratelimit import get_limiter
from privacyops.settings import Settings
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppSettings, AppVault, DbSession
from privacyops.web.problems import PROBLEM_JSON, problem_response

MAX_BODY = 32 * 1024

_PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {PROBLEM_JSON: {}},
}
_PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((404, 409, 413, 422, 429), _PROBLEM)
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 422), _PROBLEM)

public_router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
admin_router = AdminRouter(prefix="/api/v1/admin/requests", tags=["admin", "requests"])

RequestId = Annotated[str, Path(max_length=16, description="The request's reference, R-...")]
Model = TypeVar("Model", bound=BaseModel)


class PayloadTooLarge(PrivacyOpsError):
    status_code = 413
    title = "Payload too large"


# --- plumbing ------------------------------------------------------------------------------------


async def limited_body(request: Request) -> bytes:
    """The body, refused past MAX_BODY bytes without reading further."""
    too_large = PayloadTooLarge(
        f"body: at most {MAX_BODY // 1024} KB", [FieldProblem("body", f"at most {MAX_BODY} bytes")]
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


Body = Annotated[bytes, Depends(limited_body)]


def parse(model: type[Model], raw: bytes) -> Model:
    """Shape errors as problem+json naming each field, like FastAPI's own validation."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        problems = [
            FieldProblem(
                field=path_to_field([p for p in err["loc"] if isinstance(p, str | int)]),
                message=str(err.get("msg", "invalid value")),
            )
            for err in exc.errors()
        ]
        names = ", ".join(p.field for p in problems)
        raise InvalidInput(f"invalid fields: {names}", problems) from None


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its `#/$defs/...` references replaced by the definitions themselves: in
    an OpenAPI document such references would point at the document's root."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Documents the JSON body of routes that read it themselves (to cap its size first)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inlined}},
        }
    }


def too_many(message: str, retry_after: int | None) -> JSONResponse:
    response = problem_response(429, "Too many requests", message)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def rate_limited(request: Request, settings: Settings) -> JSONResponse | None:
    client = client_address(request) or "unknown"
    decision = get_limiter(settings).hit(f"dsr-public:{client}", settings.rate_limit_public)
    if decision.allowed:
        return None
    return too_many("too many requests from your address; retry later", decision.retry_after)


def links_for(settings: Settings) -> StatusLinks:
    return StatusLinks.from_settings(settings)


def created_out(request: DataRequest) -> RequestCreated:
    return RequestCreated(
        id=request.id,
        status=request.status,
        received_at=request.received_at,
        due_at=request.effective_due_at,
        type=request.type,
        state=request.state,
        verification=request.verification,
    )


def _submit(
    db: Session,
    vault: Any,
    settings: Settings,
    data: RequestIn,
    channel: Channel,
    idempotency_key: str | None,
    *,
    staff: str | None,
    client: str | None,
) -> Response:
    now = utcnow()
    submitted = service.submit(
        db,
        vault,
        service.policy_in_force(db, now),
        data,
        channel,
        now,
        links=links_for(settings),
        idempotency_key=idempotency_key,
        staff=staff,
        client=client,
    )
    body = created_out(submitted.request).model_dump(mode="json")
    response = JSONResponse(body, status_code=201)
    if not submitted.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# --- public --------------------------------------------------------------------------------------


@public_router.post(
    "",
    status_code=201,
    response_model=RequestCreated,
    responses=_PUBLIC_ERRORS,
    openapi_extra=_body_schema(RequestIn),
)
def create_request(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    raw: Body,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Make a rights request. A retry with the same `Idempotency-Key` returns the first request
    (with `Idempotent-Replayed: true`); the same key with another body answers 409."""
    refused = rate_limited(request, settings)
    if refused is not None:
        return refused
    data = parse(RequestIn, raw)
    return _submit(
        db,
        vault,
        settings,
        data,
        Channel.api,
        idempotency_key,
        staff=None,
        client=client_address(request),
    )


@public_router.post(
    "/{request_id}/verify",
    response_model=CodeCheckOut,
    responses=_PUBLIC_ERRORS,
    openapi_extra=_body_schema(VerifyIn),
)
def verify_request(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: RequestId,
    raw: Body,
) -> Any:
    """Enter the 6-digit code sent to the requester. The answer carries a status token: the
    key to the request's status (`GET /api/v1/requests/{id}?token=...`)."""
    refused = rate_limited(request, settings)
    if refused is not None:
        return refused
    body = parse(VerifyIn, raw)
    try:
        verified = service.verify(
            db,
            vault,
            request_id,
            body.code,
            now=utcnow(),
            identity=body.identity,
            extra_points=body.extra_points,
            declaration_signed=body.declaration_signed,
            signer_name=body.signer_name,
            client=client_address(request),
        )
    except service.CodeRefused:
        db.commit()  # the wrong attempt counts
        raise
    return CodeCheckOut(
        id=verified.request.id,
        status=verified.request.status,
        identity=verified.identity,
        verified=verified.complete,
        status_token=links_for(settings).token(verified.request.id),
    )


@public_router.post(
    "/{request_id}/resend-code",
    status_code=202,
    response_model=ResendOut,
    responses=_PUBLIC_ERRORS,
    openapi_extra=_body_schema(ResendIn),
)
def resend_code(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: RequestId,
    raw: Body,
) -> Any:
    """Send a new code (the previous one stops working): 3 times at most, a minute apart."""
    refused = rate_limited(request, settings)
    if refused is not None:
        return refused
    body = parse(ResendIn, raw) if raw.strip() else ResendIn()
    try:
        resent = service.resend_code(db, vault, request_id, now=utcnow(), identity=body.identity)
    except service.TooManyRequests as exc:
        return too_many(exc.message, exc.retry_after)
    return ResendOut(id=resent.request.id, identity=resent.identity, sends_left=resent.sends_left)


@public_router.get("/{request_id}", response_model=RequestStatusOut, responses=_PUBLIC_ERRORS)
def request_status(
    db: DbSession,
    settings: AppSettings,
    request_id: RequestId,
    token: Annotated[
        str | None, Query(max_length=512, description="The status link's token.")
    ] = None,
) -> RequestStatusOut:
    """The request's status, for the holder of its status link (never by reference alone)."""
    found = service.status_for_requester(db, links_for(settings), request_id, token)
    return status_out(found)


def status_out(request: DataRequest) -> RequestStatusOut:
    return RequestStatusOut(
        id=request.id,
        type=request.type,
        state=request.state,
        status=request.status,
        received_at=request.received_at,
        due_at=request.effective_due_at,
        extended_due_at=request.extended_due_at,
        responded_at=request.responded_at,
        denial_reason=request.denial_reason,
        appeal_until=appeal_until(request) if request.status == "denied" else None,
    )


# --- staff ---------------------------------------------------------------------------------------

Enterer = Annotated[Principal, require(Permission.requests_enter)]
Reader = Annotated[Principal, require(Permission.requests_read)]
Decider = Annotated[Principal, require(Permission.requests_decide)]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Task id.")]


def summary(request: DataRequest) -> RequestSummary:
    return RequestSummary(
        id=request.id,
        type=request.type,
        state=request.state,
        channel=request.channel,
        status=request.status,
        received_at=request.received_at,
        due_at=request.effective_due_at,
        extended_due_at=request.extended_due_at,
        verified_at=request.verified_at,
        closed_at=request.closed_at,
        appeal_of=request.appeal_of,
    )


@admin_router.get("", response_model=RequestList, responses=_ADMIN_ERRORS)
def list_requests(
    principal: Reader,
    db: DbSession,
    status: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[str | None, Query(max_length=2)] = None,
    due_before: Annotated[datetime | None, Query(description="Due (or overdue) before.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> RequestList:
    """Requests, soonest due first (no identities: open one to see them)."""
    filters = repository.RequestFilters(
        status=status, type=type, state=state.upper() if state else None, due_before=due_before
    )
    page = service.list_requests(db, filters, offset, limit)
    return RequestList(
        items=[summary(r) for r in page.items], total=page.total, offset=offset, limit=limit
    )


@admin_router.post("", status_code=201, response_model=RequestCreated, responses=_ADMIN_ERRORS)
def enter_request(
    principal: Enterer,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    body: StaffRequestIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Enter a request received by mail, phone or in a store, with its channel."""
    if body.channel not in STAFF_CHANNELS:
        allowed = ", ".join(sorted(c.value for c in STAFF_CHANNELS))
        raise InvalidInput(
            f"channel: one of {allowed}", [FieldProblem("channel", f"one of {allowed}")]
        )
    data = RequestIn.model_validate(body.model_dump(exclude={"channel"}))
    return _submit(
        db,
        vault,
        settings,
        data,
        body.channel,
        idempotency_key,
        staff=principal.actor,
        client=client_address(request),
    )


def detail_out(view: service.RequestView) -> RequestDetail:
    r = view.request
    return RequestDetail(
        **summary(r).model_dump(),
        policy_version=r.policy_version,
        rules=r.rules_snapshot,
        verification=r.verification,
        extension_reason=r.extension_reason,
        responded_at=r.responded_at,
        denial_reason=r.denial_reason,
        denial_detail=view.denial_detail,
        via_agent=r.via_agent,
        specific_pieces=r.specific_pieces,
        access_format=r.access_format,
        entered_by=r.entered_by,
        identities=[
            IdentityOut(kind=i.kind, value=value, verified_at=i.verified_at)
            for i, value in view.identities
        ],
        details=view.details,
        corrections=view.corrections,
        agent=view.agent,
        evidence=view.evidence,
        events=[
            EventOut(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                note=note,
            )
            for e, note in view.events
        ],
        tasks=[
            TaskOut(
                id=t.id,
                name=t.name,
                status=t.status,
                result=result,
                done_by=t.done_by,
                done_at=t.done_at,
            )
            for t, result in view.tasks
        ],
        datastore_tasks=[
            DatastoreTaskOut(
                dataset=t.dataset,
                collection=t.collection,
                phase=t.phase,
                status=t.status,
                attempts=t.attempts,
                next_attempt_at=t.next_attempt_at,
                last_error=t.last_error,
                result=t.result,
            )
            for t in view.datastore_tasks
        ],
        correctable_fields=view.correctable_fields,
        erased=view.erased,
    )


@admin_router.get("/{request_id}", response_model=RequestDetail, responses=_ADMIN_ERRORS)
def get_request(
    principal: Reader, request: Request, db: DbSession, vault: AppVault, request_id: RequestId
) -> RequestDetail:
    """One request with its identities and free text in clear (recorded as `request.viewed`)."""
    view = service.view_request(
        db, vault, request_id, actor=principal.actor, client=client_address(request)
    )
    return detail_out(view)


@admin_router.post("/{request_id}/approve", response_model=RequestSummary, responses=_ADMIN_ERRORS)
def approve(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: RequestId,
    body: NoteIn | None = None,
) -> RequestSummary:
    """Approve: completed (completion notice sent) when no task is pending, else in progress."""
    found = workflow.approve(
        db,
        vault,
        links_for(settings),
        request_id,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
        note=(body.note or None) if body else None,
    )
    return summary(found)


@admin_router.post("/{request_id}/deny", response_model=RequestSummary, responses=_ADMIN_ERRORS)
def deny(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: RequestId,
    body: DenyIn,
) -> RequestSummary:
    """Deny with a reason from the list (exemption: give the legal basis; other: explain)."""
    found = workflow.deny(
        db,
        vault,
        links_for(settings),
        request_id,
        body.reason,
        body.detail,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
    )
    return summary(found)


@admin_router.post("/{request_id}/extend", response_model=RequestSummary, responses=_ADMIN_ERRORS)
def extend(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: RequestId,
    body: ReasonIn,
) -> RequestSummary:
    """The one extension, with its reason, before the first due date (the requester is told)."""
    found = workflow.extend(
        db,
        vault,
        links_for(settings),
        request_id,
        body.reason,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
    )
    return summary(found)


@admin_router.post("/{request_id}/cancel", response_model=RequestSummary, responses=_ADMIN_ERRORS)
def cancel(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: RequestId,
    body: ReasonIn | None = None,
) -> RequestSummary:
    """Cancel (for example at the requester's wish), with an optional note."""
    found = workflow.cancel(
        db,
        vault,
        request_id,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
        note=body.reason if body else None,
    )
    return summary(found)


@admin_router.post("/{request_id}/notes", status_code=201, responses=_ADMIN_ERRORS)
def add_note(
    principal: Reader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: RequestId,
    body: NoteIn,
) -> dict[str, str]:
    """A staff note, kept encrypted with the request."""
    workflow.add_note(
        db,
        vault,
        request_id,
        body.note,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
    )
    return {"id": request_id, "status": "noted"}


@admin_router.post(
    "/{request_id}/tasks", status_code=201, response_model=TaskOut, responses=_ADMIN_ERRORS
)
def add_task(principal: Decider, db: DbSession, request_id: RequestId, body: TaskIn) -> TaskOut:
    """A manual fulfilment task for one datastore."""
    task = workflow.add_task(db, request_id, body.name, actor=principal.actor, now=utcnow())
    return TaskOut(
        id=task.id, name=task.name, status=task.status, result=None, done_by=None, done_at=None
    )


@admin_router.post(
    "/{request_id}/tasks/{task_id}/done", response_model=TaskOut, responses=_ADMIN_ERRORS
)
def task_done(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: RequestId,
    task_id: TaskId,
    body: TaskDoneIn,
) -> TaskOut:
    """Mark a task done (or failed) with its result."""
    task = workflow.task_done(
        db,
        vault,
        request_id,
        task_id,
        body.result,
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
        failed=body.failed,
    )
    return TaskOut(
        id=task.id,
        name=task.name,
        status=task.status,
        result=body.result.strip(),
        done_by=task.done_by,
        done_at=task.done_at,
    )


@admin_router.put(
    "/{request_id}/corrections", response_model=RequestSummary, responses=_ADMIN_ERRORS
)
def map_corrections(
    principal: Decider,
    request: Request,
    db: DbSession,
    vault: AppVault,
    request_id: RequestId,
    body: CorrectionsIn,
) -> RequestSummary:
    """Turn the requester's corrections into changes of correctable fields; applied by the
    engine once the request is in progress (at once if it already is)."""
    found = corrections.set_changes(
        db,
        vault,
        request_id,
        [(c.target, c.value) for c in body.changes],
        actor=principal.actor,
        now=utcnow(),
        client=client_address(request),
    )
    return summary(found)


@admin_router.post("/{request_id}/retry", response_model=RequestSummary, responses=_ADMIN_ERRORS)
def retry(
    principal: Decider, request: Request, db: DbSession, vault: AppVault, request_id: RequestId
) -> RequestSummary:
    """Try the failed datastores again now, without waiting for the back-off (after fixing a
    datastore's settings, say)."""
    found = fulfilment.retry_now(
        db, vault, request_id, actor=principal.actor, now=utcnow(), client=client_address(request)
    )
    return summary(found)
