"""Staff API under /api/v1/admin: who am I, staff accounts, own API tokens.

Every route declares its permission (AdminRouter refuses one that does not).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from privacyops.staff import service
from privacyops.staff.permissions import Permission
from privacyops.staff.schemas import (
    MeOut,
    StaffCreate,
    StaffList,
    StaffOut,
    StaffPatch,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
)
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import DbSession
from privacyops.web.problems import PROBLEM_JSON

router = AdminRouter(prefix="/api/v1/admin", tags=["admin"])

_PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {PROBLEM_JSON: {}},
}
_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 422), _PROBLEM)

Console = Annotated[Principal, require(Permission.console_use)]
StaffReader = Annotated[Principal, require(Permission.staff_read)]
StaffManager = Annotated[Principal, require(Permission.staff_manage)]
TokenOwner = Annotated[Principal, require(Permission.tokens_manage_own)]
StaffId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Staff member id.")]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="API token id.")]


@router.get("/me", response_model=MeOut, responses=_ERRORS)
def me(principal: Console) -> MeOut:
    """The caller: account, the role this request acts with, and its permissions."""
    return MeOut.of(principal)


@router.get("/staff", response_model=StaffList, responses=_ERRORS)
def list_staff(
    request: Request,
    db: DbSession,
    principal: StaffReader,
    offset: Annotated[int, Query(ge=0, description="Accounts to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Page size.")] = 50,
) -> StaffList:
    """Staff accounts by email. Each listing is recorded in the audit log (`staff.listed`)."""
    page = service.list_staff(
        db, offset=offset, limit=limit, actor=principal.actor, client=client_address(request)
    )
    return StaffList(
        items=[StaffOut.of(s) for s in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.post("/staff", response_model=StaffOut, status_code=201, responses=_ERRORS)
def create_staff(
    request: Request, db: DbSession, principal: StaffManager, body: StaffCreate
) -> StaffOut:
    """Create a staff account with an initial password (at least 12 characters)."""
    staff = service.create_staff(
        db,
        email=body.email,
        role=body.role.value,
        password=body.password.get_secret_value(),
        display_name=body.display_name,
        actor=principal.actor,
        client=client_address(request),
    )
    return StaffOut.of(staff)


@router.patch("/staff/{staff_id}", response_model=StaffOut, responses=_ERRORS)
def update_staff(
    request: Request, db: DbSession, principal: StaffManager, staff_id: StaffId, body: StaffPatch
) -> StaffOut:
    """Change a role or (de)activate an account; either ends the member's sessions."""
    staff = service.update_staff(
        db,
        staff_id,
        role=body.role.value if body.role is not None else None,
        active=body.active,
        actor=principal.actor,
        client=client_address(request),
    )
    return StaffOut.of(staff)


@router.get("/tokens", response_model=TokenList, responses=_ERRORS)
def list_tokens(db: DbSession, principal: TokenOwner) -> TokenList:
    """Your own API tokens (never their values)."""
    return TokenList(items=[TokenOut.of(t) for t in service.tokens_of(db, principal.staff)])


@router.post("/tokens", response_model=TokenCreated, status_code=201, responses=_ERRORS)
def create_token(
    request: Request, db: DbSession, principal: TokenOwner, body: TokenCreate
) -> TokenCreated:
    """A new API token for yourself, scoped to a role no higher than yours. Its value is in
    this answer only: keep it now."""
    issued = service.issue_token(
        db,
        principal.staff,
        name=body.name,
        role=(body.role or principal.role).value,
        acting_role=principal.role,
        expires_at=body.expires_at,
        actor=principal.actor,
        client=client_address(request),
    )
    return TokenCreated(**TokenOut.of(issued.token).model_dump(), token=issued.plaintext)


@router.delete("/tokens/{token_id}", status_code=204, responses=_ERRORS)
def revoke_token(
    request: Request, db: DbSession, principal: TokenOwner, token_id: TokenId
) -> Response:
    """Revoke one of your API tokens; it stops working at once."""
    token = service.get_token(db, token_id, owner=principal.staff)
    service.revoke_token(db, token, actor=principal.actor, client=client_address(request))
    return Response(status_code=204)
