"""Typed dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from privacyops import runtime
from privacyops.audit.batch import AuditQueue
from privacyops.dsr.records import FULFIL_FLAG
from privacyops.jobs.transactional import enqueue_after_commit
from privacyops.notify.outbox import QUEUED_FLAG
from privacyops.settings import Settings
from privacyops.vault.service import Vault


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler returns without error."""
    factory = request.app.state.session_factory
    session: Session = factory()
    try:
        yield session
        jobs = request.app.state.jobs
        for request_id in sorted(session.info.pop(FULFIL_FLAG, ())):
            # A request that reached in_progress is worked on once that is committed.
            enqueue_after_commit(session, jobs, "requests.fulfil", request_id=request_id)
        if session.info.pop(QUEUED_FLAG, False):
            # Mail queued by this request goes out once the request's rows are committed.
            enqueue_after_commit(session, jobs, "mail.dispatch")
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# The dependencies below only read app state: `async` keeps them on the event loop (a sync one
# would be a hop to the thread pool and back on every request).
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_audit_queue(request: Request) -> AuditQueue:
    queue: AuditQueue = request.app.state.audit_queue
    return queue


def app_vault(request: Request) -> Vault:
    """The process's one vault (its key store engine is shared), made on first use."""
    vault: Vault | None = getattr(request.app.state, "vault", None)
    return vault or runtime.open_vault(request.app.state.settings)


async def get_vault(request: Request) -> Vault:
    return app_vault(request)


# scope="function": the session commits when the handler returns, before the response is sent,
# so nothing is acknowledged that is not committed (and a failed commit is an error response).
DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppVault = Annotated[Vault, Depends(get_vault)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
AppAuditQueue = Annotated[AuditQueue, Depends(get_audit_queue)]
