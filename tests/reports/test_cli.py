"""`privacyops reports ccpa-7102` against the test database (through the group's own Typer app
until the root command registers it)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.reports import cli
from tests.reports.support import add_year_2025
from tests.reports.test_pages import EXPECTED_CSV

runner = CliRunner()
# As the root command will mount it (`privacyops reports ...`).
root = typer.Typer()
root.add_typer(cli.reports_app, name="reports")
pytestmark = pytest.mark.usefixtures("use_test_database")


def split(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_today", lambda: date(2026, 6, 1))


def test_prints_the_table(db: Session) -> None:
    add_year_2025(db)
    db.commit()

    result = runner.invoke(root, ["reports", "ccpa-7102", "--year", "2025"])

    assert result.exit_code == 0, result.output
    assert "calendar year 2025; scope: all individuals (not only California consumers)" in (
        result.stdout
    )
    rows = {cells[0]: cells[1:] for cells in map(split, result.stdout.splitlines())}
    assert rows["Request"] == ["Received", "Complied", "Denied", "Grounds*", "Median", "Mean"]
    assert rows["Delete"] == ["6", "2", "2", "1/0/1/0", "15.0", "19.5"]
    assert rows["Correct"] == ["0", "0", "0", "0/0/0/0", "-", "-"]
    assert rows["Opt out of sale/sharing"] == ["3", "3", "0", "0/0/0/0", "2.0", "2.3"]
    assert rows["Limit"] == ["1", "0", "1", "0/0/0/1", "0.0", "0.0"]


def test_default_year_is_the_previous_one(db: Session) -> None:
    add_year_2025(db)
    db.commit()

    result = runner.invoke(root, ["reports", "ccpa-7102", "--california-only"])

    assert result.exit_code == 0, result.output
    assert "calendar year 2025; scope: California consumers only" in result.stdout


def test_writes_the_csv(db: Session, tmp_path: Path) -> None:
    add_year_2025(db)
    db.commit()
    target = tmp_path / "metrics.csv"

    result = runner.invoke(
        root, ["reports", "ccpa-7102", "--year", "2025", "--output", str(target)]
    )

    assert result.exit_code == 0, result.output
    assert target.read_bytes().decode("utf-8") == EXPECTED_CSV
    assert result.stdout.startswith(f"wrote {target}: CCPA 11 CCR 7102 metrics; calendar year")


@pytest.mark.parametrize("year", ["2019", "2027", "last"])
def test_a_bad_year_is_one_line_and_exit_1(year: str) -> None:
    result = runner.invoke(root, ["reports", "ccpa-7102", "--year", year])

    assert result.exit_code == 1
    assert result.stderr == "error: year: must be a year from 2020 to 2026\n"
    assert result.stdout == ""


def test_an_unwritable_output_is_one_line(db: Session, tmp_path: Path) -> None:
    result = runner.invoke(
        root, ["reports", "ccpa-7102", "--year", "2025", "--output", str(tmp_path / "no" / "x")]
    )

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {tmp_path / 'no' / 'x'}: ")
    assert len(result.stderr.splitlines()) == 1
