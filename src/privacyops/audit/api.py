"""Audit admin API under /api/v1/admin/audit: search, export (NDJSON) and verify the chain.

Every route declares its permission (AdminRouter refuses one that does not). Reading the log is
itself recorded (`audit.viewed`, `audit.exported`, `audit.verified`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit import service
from privacyops.audit.schemas import (
    ACTION_PATTERN,
    SUBJECT_PATTERN,
    AuditEventList,
    AuditFilters,
    VerifyOut,
)
from privacyops.audit.verify import verify_chain
from privacyops.db import reading
from privacyops.models.types import utcnow
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import DbSession
from privacyops.web.problems import PROBLEM_JSON

router = AdminRouter(prefix="/api/v1/admin/audit", tags=["audit"])

NDJSON = "application/x-ndjson"
# Events per chunk sent: one write per line would make a large export crawl.
CHUNK_EVENTS = 500

_PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {PROBLEM_JSON: {}},
}
_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 422), _PROBLEM)
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON lines, oldest first: one event per line, shaped like AuditEventOut.",
        "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/AuditEventOut"}}},
    },
    **_ERRORS,
}

Reader = Annotated[Principal, require(Permission.audit_read)]
Exporter = Annotated[Principal, require(Permission.audit_export)]


def filter_params(
    actor: Annotated[
        str | None, Query(max_length=200, description="Exact actor, such as `staff:3`.")
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=ACTION_PATTERN,
            description="An action (`staff.created`) or a prefix (`staff.` or `staff.*`).",
        ),
    ] = None,
    subject: Annotated[
        str | None,
        Query(pattern=SUBJECT_PATTERN, description="The data subject's keyed hash (64 hex)."),
    ] = None,
    target: Annotated[
        str | None, Query(max_length=200, description="Exact target, such as `staff:3`.")
    ] = None,
    date_from: Annotated[date | None, Query(description="First day included (UTC).")] = None,
    date_to: Annotated[date | None, Query(description="Last day included (UTC).")] = None,
) -> AuditFilters:
    return AuditFilters(
        actor=actor,
        action=action,
        subject=subject,
        target=target,
        date_from=date_from,
        date_to=date_to,
    )


Filters = Annotated[AuditFilters, Depends(filter_params)]


@router.get("", response_model=AuditEventList, responses=_ERRORS)
def search(
    principal: Reader,
    request: Request,
    db: DbSession,
    filters: Filters,
    offset: Annotated[int, Query(ge=0, description="Events to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Page size.")] = 50,
) -> AuditEventList:
    """Matching events, newest first. Each call is recorded (`audit.viewed`)."""
    page = service.search_events(db, filters, offset, limit)
    service.record_viewed(
        db, filters, page, actor=principal.actor, client=client_address(request), via="api"
    )
    return AuditEventList.of(page)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses=_EXPORT_RESPONSES,
)
def export(
    principal: Exporter, request: Request, db: DbSession, filters: Filters
) -> StreamingResponse:
    """Matching events as JSON lines for a SIEM, oldest first, up to the moment of the call.

    The export is recorded (`audit.exported`) before the first line is sent.
    """
    return ndjson_download(request, db, principal, filters, to="api")


@router.post("/verify", response_model=VerifyOut, responses=_ERRORS)
def verify(principal: Reader, request: Request, db: DbSession) -> VerifyOut:
    """Walk the whole chain and name the first broken event; an intact chain is recorded
    (`audit.verified`), a broken one is left untouched."""
    with reading(request.app.state.session_factory) as walk:
        walked = verify_chain(walk)
    result = service.record_verified(
        db, walked, actor=principal.actor, client=client_address(request)
    )
    return VerifyOut.of(result)


# --- shared with the console's export ---------------------------------------------------------


def ndjson_download(
    request: Request, db: Session, principal: Principal, filters: AuditFilters, *, to: str
) -> StreamingResponse:
    """Record the export, commit, then stream it with a session of its own.

    The commit comes first so that the record survives a download cut short; the stream
    cannot use the request's session, which FastAPI may close before the body is sent.
    """
    start = service.start_export(
        db, filters, actor=principal.actor, client=client_address(request), to=to
    )
    db.commit()
    factory: sessionmaker[Session] = request.app.state.session_factory
    return StreamingResponse(
        _lines(factory, filters, start.upto_seq),
        media_type=NDJSON,
        headers={
            "Content-Disposition": f"attachment; filename=audit-{utcnow():%Y%m%d}.jsonl",
            "Cache-Control": "no-store",
        },
    )


def _lines(factory: sessionmaker[Session], filters: AuditFilters, upto: int) -> Iterator[bytes]:
    with reading(factory) as session:
        chunk: list[str] = []
        for event in service.export_events(session, filters, upto_seq=upto):
            chunk.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            if len(chunk) >= CHUNK_EVENTS:
                yield "".join(chunk).encode("utf-8")
                chunk = []
        if chunk:
            yield "".join(chunk).encode("utf-8")
