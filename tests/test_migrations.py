"""The migrations build exactly the models' schema, and downgrade/upgrade round-trips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import privacyops.models  # noqa: F401
from privacyops.db import Base, make_engine
from privacyops.migrate import MIGRATIONS_DIR, downgrade, upgrade
from tests.vault.support import scratch_database


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, so that dropping tables never touches the shared test database."""
    with scratch_database(tmp_path) as url:
        yield url


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
