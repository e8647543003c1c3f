"""FastAPI app factory: mounts each domain's API routes and pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from privacyops import __version__
from privacyops.db import make_engine, make_session_factory
from privacyops.policy import api as policy_api
from privacyops.policy import pages as policy_pages
from privacyops.settings import Settings, get_settings
from privacyops.web import health
from privacyops.web.problems import install_problem_handlers

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    settings = settings or get_settings()
    if session_factory is None:
        engine = make_engine(settings.effective_database_url, echo=settings.database_echo)
        session_factory = make_session_factory(engine)
    app = FastAPI(
        title="privacyops",
        version=__version__,
        description="Privacy Center, admin console and API that keep a privacy policy's promises.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(policy_api.router)
    app.include_router(policy_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
