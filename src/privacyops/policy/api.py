"""JSON API for the policy: /api/v1/policy and its versions. Read-only: publishing is for staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from privacyops.policy import repository, service
from privacyops.policy.schemas import (
    PolicyDiffOut,
    PolicyVersionList,
    PolicyVersionOut,
    PolicyVersionSummary,
)
from privacyops.web.deps import DbSession
from privacyops.web.problems import PROBLEM_JSON

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


def get_today() -> date:
    """The calendar day requests are answered for; tests override this dependency."""
    return date.today()


Today = Annotated[date, Depends(get_today)]
_PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {PROBLEM_JSON: {}},
}
_ERRORS: dict[int | str, dict[str, Any]] = {404: _PROBLEM, 422: _PROBLEM}
VersionNumber = Annotated[int, Path(ge=1, description="Version number.")]


@router.get("", response_model=PolicyVersionOut, responses=_ERRORS)
def policy_in_force(db: DbSession, today: Today) -> PolicyVersionOut:
    """The policy version in force today, with its full manifest."""
    version = service.version_in_force(db, today)
    return PolicyVersionOut.full(version, version, today)


@router.get("/versions", response_model=PolicyVersionList, responses=_ERRORS)
def policy_versions(
    db: DbSession,
    today: Today,
    offset: Annotated[int, Query(ge=0, description="Versions to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Page size.")] = 50,
) -> PolicyVersionList:
    """Every published version, newest first, without the manifests."""
    page = service.list_versions(db, offset=offset, limit=limit)
    in_force = repository.version_in_force(db, today)
    return PolicyVersionList(
        items=[PolicyVersionSummary.of(v, in_force, today) for v in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/versions/{number}", response_model=PolicyVersionOut, responses=_ERRORS)
def policy_version(db: DbSession, today: Today, number: VersionNumber) -> PolicyVersionOut:
    """One published version, with its full manifest."""
    version = service.get_version(db, number)
    return PolicyVersionOut.full(version, repository.version_in_force(db, today), today)


@router.get("/diff", response_model=PolicyDiffOut, responses=_ERRORS)
def policy_diff(
    db: DbSession,
    old: Annotated[int, Query(ge=1, description="The older version's number.")],
    new: Annotated[int, Query(ge=1, description="The newer version's number.")],
) -> PolicyDiffOut:
    """Every change from version `old` to version `new`, each marked material or not."""
    changes = service.diff_versions(db, old, new)
    material = sum(1 for change in changes if change.material)
    return PolicyDiffOut(
        old=old, new=new, material=material > 0, material_count=material, changes=changes
    )
