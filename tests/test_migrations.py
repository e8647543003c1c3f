"""The migrations build exactly the models' schema, and downgrade/upgrade round-trips."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

import privacyops.models  # noqa: F401
from privacyops.db import Base, make_engine
from privacyops.migrate import MIGRATIONS_DIR, downgrade, upgrade


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, so that dropping tables never touches the shared test database."""
    base = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    if base == "sqlite":
        yield f"sqlite:///{(tmp_path / 'scratch.db').as_posix()}"
        return
    name = f"privacyops_scratch_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(diff)


def test_models_match_migrations(scratch_url: str) -> None:
    upgrade(scratch_url)
    assert _diff(scratch_url) == []


def test_downgrade_and_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    engine = make_engine(scratch_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
    upgrade(scratch_url)
    assert _diff(scratch_url) == []


def test_migration_files_have_dated_names() -> None:
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    for name in names:
        assert name[:4].isdigit(), name
        assert name[4] == "_", name
