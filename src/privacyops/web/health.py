"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from privacyops.web.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DbSession) -> dict[str, str]:
    """Answers `ok` when the process runs and its database answers."""
    db.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}
