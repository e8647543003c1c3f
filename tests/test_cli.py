"""The `privacyops` command as a user runs it: a real process, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_POLICY, REPO_ROOT


def run_cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PRIVACYOPS_DATA_DIR": str(data_dir),
        "PRIVACYOPS_DATABASE_URL": f"sqlite:///{(data_dir / 'cli.db').as_posix()}",
        "PRIVACYOPS_DEFAULT_POLICY_FILE": str(EXAMPLE_POLICY),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "privacyops.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def test_help_lists_commands(tmp_path: Path) -> None:
    result = run_cli("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("setup", "serve", "db", "policy"):
        assert command in result.stdout


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("frobnicate", data_dir=tmp_path)
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database at heads" in result.stdout
    assert (tmp_path / "cli.db").exists()


def test_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "db",
        "upgrade",
        data_dir=tmp_path,
        PRIVACYOPS_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/nothing",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("privacyops: error: cannot reach the database: ")


def test_bad_setting_is_reported_by_name(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", data_dir=tmp_path, PRIVACYOPS_PORT="eighty")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "invalid setting PRIVACYOPS_PORT" in result.stderr
