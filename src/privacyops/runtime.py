"""Where the CLI and jobs get their database sessions; tests replace `open_session_factory`."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import make_engine, make_session_factory
from privacyops.settings import Settings


def open_session_factory(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.effective_database_url, echo=settings.database_echo)
    return make_session_factory(engine)
