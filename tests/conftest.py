"""Test harness: a real database (SQLite file or PostgreSQL), migrated once per run, and one
rolled-back transaction per test.

PRIVACYOPS_TEST_DATABASE_URL selects the database: `sqlite` (default) for a fresh SQLite file,
or a PostgreSQL URL such as postgresql+psycopg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from privacyops import runtime
from privacyops.app import create_app
from privacyops.db import make_engine
from privacyops.jobs.queue import InlineJobQueue
from privacyops.migrate import upgrade
from privacyops.settings import Settings, get_settings
from privacyops.vault.service import Vault
from privacyops.vault.setup import ensure_keyring

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = REPO_ROOT / "examples" / "miniso-usa" / "policy.yaml"


def _test_database_url(tmp_dir: Path) -> str:
    url = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    if url == "sqlite":
        return f"sqlite:///{(tmp_dir / 'test.db').as_posix()}"
    return url


def reset_database(url: str) -> None:
    """Empty the test database so that migrations start from nothing."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _test_database_url(tmp_path_factory.mktemp("db"))
    reset_database(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Each session's commit only releases a savepoint; the test's outer transaction stays open.
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        default_policy_file=EXAMPLE_POLICY,
        # Tests run jobs themselves; no clock thread acting behind their back.
        scheduler_enabled=False,
    )


@pytest.fixture
def use_test_database(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[Settings]:
    """Point the CLI and jobs at this test's transaction and settings."""
    monkeypatch.setattr(runtime, "open_session_factory", lambda _settings: session_factory)
    get_settings.cache_clear()
    monkeypatch.setenv("PRIVACYOPS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PRIVACYOPS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PRIVACYOPS_DEFAULT_POLICY_FILE", str(settings.default_policy_file))
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    """A vault with a fresh key ring and key store in the test's data folder."""
    ensure_keyring(settings)
    with Vault.from_settings(settings) as instance:
        yield instance


@pytest.fixture
def app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> FastAPI:
    """The app on the test's transaction; its jobs run at once, in the test's thread, on the
    same transaction and vault, so a test sees their effect as soon as a request returns."""
    monkeypatch.setattr(runtime, "open_session_factory", lambda _settings: session_factory)
    monkeypatch.setattr(runtime, "open_vault", lambda _settings: request.getfixturevalue("vault"))
    application = create_app(settings, session_factory=session_factory)
    application.state.jobs = InlineJobQueue(settings, synchronous=True)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright, shared by the run's page tests."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    from tests.browser import live_server

    with live_server(app) as url:
        yield url
