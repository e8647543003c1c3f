"""The console's audit log browser: filter, page through, export, find a subject, verify.

Filters travel in the URL (a GET form), so a view can be shared as a link. The one exception is
the lookup by email or phone: it is POSTed and answered with a redirect to the subject's hash,
so the identity never lands in an address bar, a browser history or a server's access log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from privacyops.audit import service
from privacyops.audit.actions import AuditAction
from privacyops.audit.api import ndjson_download
from privacyops.audit.schemas import (
    FILTER_FIELDS,
    AuditFilters,
    Page,
    action_groups,
    filter_values,
    parse_filters,
)
from privacyops.audit.verify import VerifyResult, verify_chain
from privacyops.db import reading
from privacyops.errors import FieldProblem, InvalidInput, PrivacyOpsError
from privacyops.identity.normalize import IdentityKind, normalize
from privacyops.identity.service import find_subject
from privacyops.models.audit import AuditEvent
from privacyops.staff.console import render_console
from privacyops.staff.permissions import Permission
from privacyops.vault.service import Vault
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import DbSession, app_vault

router = AdminRouter(tags=["console"], include_in_schema=False)

AUDIT_PATH = "/admin/audit"
PAGE_SIZE = 50
MAX_PAGE_NUMBER = 1_000_000
SHORT_HASH = 12

Reader = Annotated[Principal, require(Permission.audit_read)]
Exporter = Annotated[Principal, require(Permission.audit_export)]


# --- what the table shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    seq: int
    when: str
    iso: str
    actor: str
    action: str
    subject: str | None
    target: str | None
    client: str | None
    details: list[str]

    @property
    def subject_short(self) -> str:
        return (self.subject or "")[:SHORT_HASH]

    @classmethod
    def of(cls, event: AuditEvent) -> EventRow:
        at = event.at.astimezone(UTC)
        return cls(
            seq=event.seq,
            when=f"{at:%Y-%m-%d %H:%M:%S}",
            iso=at.isoformat(),
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            target=event.target,
            client=event.client,
            details=detail_pairs(event.details),
        )


def detail_pairs(details: Mapping[str, Any]) -> list[str]:
    """`key=value` per detail, keys sorted; strings as they are, anything else as JSON.

    Returned as text: the template escapes it (details may hold whatever a caller put there).
    """
    pairs = []
    for key in sorted(details):
        value = details[key]
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        pairs.append(f"{key}={shown}")
    return pairs


@dataclass(frozen=True)
class Pager:
    number: int
    total: int
    first: int
    last: int
    newer_url: str | None
    older_url: str | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def audit_url(values: Mapping[str, str], **extra: str | int) -> str:
    query = urlencode({**values, **{k: str(v) for k, v in extra.items()}})
    return f"{AUDIT_PATH}?{query}" if query else AUDIT_PATH


def _pager(filters: AuditFilters, number: int, page: Page) -> Pager:
    values = filter_values(filters)
    newer = None
    if number > 1:
        newer = audit_url(values, page=number - 1) if number > 2 else audit_url(values)
    older = audit_url(values, page=number + 1) if page.offset + PAGE_SIZE < page.total else None
    return Pager(
        number=number,
        total=page.total,
        first=page.offset + 1 if page.items else 0,
        last=page.offset + len(page.items),
        newer_url=newer,
        older_url=older,
    )


# --- pages ------------------------------------------------------------------------------------


@router.get(AUDIT_PATH, response_class=HTMLResponse)
def audit_log(principal: Reader, request: Request, db: DbSession) -> Response:
    """Matching events, newest first, 50 a page. Each page shown is recorded (`audit.viewed`)."""
    raw = _raw_filters(request.query_params)
    try:
        filters = parse_filters(raw)
        number = _page_number(request.query_params.get("page", ""))
        page = service.search_events(db, filters, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    except InvalidInput as invalid:
        return _render(request, principal, raw, errors=_errors(invalid), status_code=422)
    service.record_viewed(
        db, filters, page, actor=principal.actor, client=client_address(request), via="console"
    )
    return _render(request, principal, raw, filters=filters, number=number, page=page)


@router.get(f"{AUDIT_PATH}/export")
def audit_export(principal: Exporter, request: Request, db: DbSession) -> Response:
    """The filtered events as a JSON lines download (recorded as `audit.exported` first)."""
    raw = _raw_filters(request.query_params)
    try:
        filters = parse_filters(raw)
        return ndjson_download(request, db, principal, filters, to="download")
    except InvalidInput as invalid:
        return _render(request, principal, raw, errors=_errors(invalid), status_code=422)


@router.post(f"{AUDIT_PATH}/subject", response_class=HTMLResponse)
def find_by_identity(
    principal: Reader,
    request: Request,
    db: DbSession,
    identity: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    date_from: Annotated[str, Form()] = "",
    date_to: Annotated[str, Form()] = "",
) -> Response:
    """Turn an email or phone into the subject's hash and show that subject's events.

    The lookup goes through the blind index (the identity is never stored or compared in
    clear). A miss is recorded as `audit.viewed` with the kind looked up, not the value.
    """
    raw = {
        "actor": actor,
        "action": action,
        "target": target,
        "date_from": date_from,
        "date_to": date_to,
    }

    def refuse(errors: Mapping[str, str], status_code: int) -> HTMLResponse:
        return _render(
            request,
            principal,
            raw,
            errors=errors,
            status_code=status_code,
            identity=identity[:254],
        )

    vault = _vault(request)
    try:
        filters = parse_filters(raw)
        kind = _identity_kind(identity)
    except InvalidInput as invalid:
        return refuse(_errors(invalid), 422)
    if vault is None:
        return refuse({"identity": "unavailable: the vault is not configured on this server"}, 503)
    subject = find_subject(db, vault, kind, identity)
    if subject is None:
        service.record(
            db,
            AuditAction.audit_viewed,
            actor=principal.actor,
            client=client_address(request),
            details={**service.filter_details(filters), "lookup": kind, "found": False},
        )
        return refuse({"identity": f"no data subject has this {_KIND_WORDS[kind]}"}, 404)
    values = {**filter_values(filters), "subject": vault.subject_hash(subject.id)}
    return RedirectResponse(audit_url(values), status_code=303)


@router.post(f"{AUDIT_PATH}/verify", response_class=HTMLResponse)
def verify(principal: Reader, request: Request, db: DbSession) -> Response:
    """Walk the whole chain and show the result; an intact chain is recorded."""
    with reading(request.app.state.session_factory) as walk:
        walked = verify_chain(walk)
    result = service.record_verified(
        db, walked, actor=principal.actor, client=client_address(request)
    )
    return _render_verify(principal, result)


# --- helpers ----------------------------------------------------------------------------------

_KIND_WORDS = {IdentityKind.email: "email address", IdentityKind.phone: "phone number"}


def _raw_filters(values: Mapping[str, str]) -> dict[str, str]:
    return {name: values.get(name, "") for name in FILTER_FIELDS}


def _page_number(value: str) -> int:
    text = value.strip()
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_NUMBER:
        problem = FieldProblem("page", f"must be a whole number from 1 to {MAX_PAGE_NUMBER}")
        raise InvalidInput(problem.render(), [problem])
    return int(text)


def _identity_kind(value: str) -> IdentityKind:
    """Email when it has an @, else a phone number; checked by the vault's own normaliser."""
    if not value.strip():
        problem = FieldProblem("identity", "enter an email address or a phone number")
        raise InvalidInput(problem.render(), [problem])
    kind = IdentityKind.email if "@" in value else IdentityKind.phone
    normalize(kind, value, field="identity")
    return kind


def _vault(request: Request) -> Vault | None:
    """The app's vault, or None when no key ring is configured: the lookup then says so, and
    the rest of the page works without it."""
    try:
        return app_vault(request)
    except PrivacyOpsError:
        return None


def _errors(invalid: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in invalid.problems:
        errors.setdefault(problem.field, problem.message)
    return errors or {"form": invalid.message}


def _render(
    request: Request,
    principal: Principal,
    raw: Mapping[str, str],
    *,
    filters: AuditFilters | None = None,
    number: int = 1,
    page: Page | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    identity: str = "",
) -> HTMLResponse:
    values = filter_values(filters) if filters is not None else {}
    known = {str(a) for a in AuditAction} | {g.wildcard for g in action_groups()}
    action = raw.get("action", "").strip()
    return render_console(
        "admin/audit.html",
        principal,
        status_code=status_code,
        nav_current="audit",
        page_title="Audit log",
        form={name: raw.get(name, "") for name in FILTER_FIELDS},
        errors=dict(errors or {}),
        groups=action_groups(),
        other_action=action if action and action not in known else "",
        rows=[EventRow.of(e) for e in page.items] if page is not None else None,
        pager=_pager(filters, number, page) if filters is not None and page is not None else None,
        export_url=(
            f"{AUDIT_PATH}/export?{urlencode(values)}".rstrip("?")
            if page is not None and principal.may(Permission.audit_export)
            else None
        ),
        lookup_available=_vault(request) is not None,
        identity=identity,
        filter_link=audit_url,
    )


def _render_verify(principal: Principal, result: VerifyResult) -> HTMLResponse:
    return render_console(
        "admin/audit_verify.html",
        principal,
        nav_current="audit",
        page_title="Audit chain check",
        result=result,
    )
