"""Where the CLI and jobs get their database sessions; tests replace `open_session_factory`."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import make_engine, make_session_factory
from privacyops.settings import Settings


def open_session_factory(settings: Settings) -> sessionmaker[Session]:
    return _factory(settings.effective_database_url, settings.database_echo)


@lru_cache(maxsize=8)
def _factory(url: str, echo: bool) -> sessionmaker[Session]:
    # One engine (and pool) per database for the whole process: jobs run often.
    return make_session_factory(make_engine(url, echo=echo))
