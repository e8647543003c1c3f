"""FastAPI app factory: mounts each domain's API routes and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from privacyops import __version__
from privacyops.audit import api as audit_api
from privacyops.audit import pages as audit_pages
from privacyops.audit.batch import AuditQueue
from privacyops.connectors import pages as connector_pages
from privacyops.consent import api as consent_api
from privacyops.consent import banner as consent_banner
from privacyops.consent import console as consent_console
from privacyops.consent import pages as consent_pages
from privacyops.consent import people_api as consent_people_api
from privacyops.consent import propagation_api as consent_propagation_api
from privacyops.consent import propagation_console as consent_propagation_console
from privacyops.db import make_engine, make_session_factory
from privacyops.dsr import api as dsr_api
from privacyops.dsr import console as dsr_console
from privacyops.dsr import pages as dsr_pages
from privacyops.jobs.queue import make_job_queue
from privacyops.jobs.scheduler import Scheduler
from privacyops.logs import configure_logging
from privacyops.policy import api as policy_api
from privacyops.policy import pages as policy_pages
from privacyops.ratelimit import get_limiter
from privacyops.reports import pages as report_pages
from privacyops.settings import Settings, get_settings
from privacyops.staff import api as staff_api
from privacyops.staff import pages as staff_pages
from privacyops.web import health
from privacyops.web.auth import assert_admin_routes_guarded, install_auth_handlers
from privacyops.web.problems import install_problem_handlers
from privacyops.web.security import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "web" / "static"


class PrivacyOpsApp(FastAPI):
    """FastAPI with the security headers outermost, so that even the 500 page gets them."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        return SecurityHeaders(super().build_middleware_stack(), https=settings.secure_cookies)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The embedded default runs periodic jobs in this process; Celery deployments use beat."""
    settings: Settings = app.state.settings
    scheduler = None
    if settings.job_backend == "inline" and settings.scheduler_enabled:
        scheduler = Scheduler(app.state.jobs)
        scheduler.start()
    yield
    if scheduler is not None:
        scheduler.stop()
    close = getattr(app.state.jobs, "close", None)
    if close is not None:
        close()


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    if session_factory is None:
        engine = make_engine(settings.effective_database_url, echo=settings.database_echo)
        session_factory = make_session_factory(engine)
    app = PrivacyOpsApp(
        lifespan=_lifespan,
        title="privacyops",
        version=__version__,
        description="Privacy Center, admin console and API that keep a privacy policy's promises.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.login_limiter = get_limiter(settings)
    app.state.jobs = make_job_queue(settings)
    app.state.audit_queue = AuditQueue(session_factory)
    install_problem_handlers(app)
    install_auth_handlers(app)
    app.include_router(health.router)
    # Matched in order: the retailer's systems ask a decision before every email, text or ad
    # audience, so their routes come before the pages people open now and then.
    app.include_router(consent_api.staff)
    app.include_router(policy_api.router)
    app.include_router(policy_pages.router)
    app.include_router(staff_api.router)
    app.include_router(dsr_api.public_router)
    app.include_router(dsr_api.admin_router)
    app.include_router(dsr_pages.router)
    app.include_router(connector_pages.router)
    # The banner's routes answer the retailer's sites too (CORS for `consent_origins` only).
    app.include_router(consent_api.public, dependencies=[Depends(consent_banner.cors)])
    app.include_router(consent_banner.router)
    app.include_router(consent_pages.router)
    app.include_router(consent_people_api.router)
    app.include_router(consent_console.router)
    app.include_router(consent_propagation_api.router)
    app.include_router(consent_propagation_console.router)
    app.include_router(dsr_console.router)
    app.include_router(report_pages.router)
    app.include_router(staff_pages.router)
    app.include_router(audit_api.router)
    app.include_router(audit_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Refuse by default: no staff route may start without a permission check.
    assert_admin_routes_guarded(app)
    return app
