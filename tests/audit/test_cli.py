"""`privacyops audit verify | export` against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.cli import app
from privacyops.models.audit import AuditEvent

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("use_test_database")

FIELDS = {
    "seq",
    "at",
    "actor",
    "action",
    "subject",
    "target",
    "client",
    "details",
    "prev_hash",
    "hash",
}


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["audit", *args])


def seed(db: Session, count: int = 5) -> None:
    for n in range(count):
        record(db, AuditAction.staff_created, actor="cli", target=f"staff:{n}")
    db.commit()


def actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_verify_an_intact_log(db: Session) -> None:
    seed(db)
    result = invoke("verify", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == "audit log intact: 5 events\n"
    assert actions(db)[-1] == "audit.verified"
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None
    assert (last.actor, last.details) == ("cli", {"events": 5})


def test_verify_twice_counts_its_own_event(db: Session) -> None:
    seed(db, 2)
    assert invoke("verify").exit_code == 0
    result = invoke("verify")
    assert result.stdout == "audit log intact: 3 events\n"


def test_verify_a_broken_log_names_the_event_and_appends_nothing(db: Session) -> None:
    seed(db)
    db.execute(text("UPDATE audit_events SET target = 'staff:99' WHERE seq = 3"))
    result = invoke("verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "audit log broken: event 3 was edited: its hash does not match its content "
        "(2 events checked)\n"
    )
    assert "audit.verified" not in actions(db)


def test_verify_an_empty_log(db: Session) -> None:
    result = invoke("verify")
    assert result.exit_code == 0
    assert result.stdout == "audit log intact: 0 events\n"


def test_export_writes_json_lines_to_stdout(db: Session) -> None:
    seed(db, 3)
    result = invoke("export")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert all(set(line) == FIELDS for line in lines)
    assert lines[0]["at"].endswith("Z")
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    exported = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert exported is not None
    assert exported.action == "audit.exported"
    assert exported.details == {"events": 3, "to": "stdout"}


def test_export_filters_and_writes_a_file(db: Session, tmp_path: Path) -> None:
    seed(db, 2)
    record(db, AuditAction.staff_login, actor="staff:1", client="10.0.0.1")
    db.commit()
    out = tmp_path / "audit.jsonl"
    result = invoke("export", "--action", "staff.login", "--since", "2000-01-01", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["action"], e["client"]) for e in lines] == [("staff.login", "10.0.0.1")]
    assert out.stat().st_mode & 0o077 == 0


def test_export_until_a_past_day_is_empty(db: Session) -> None:
    seed(db, 2)
    result = invoke("export", "--until", "2000-01-01")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_export_rejects_a_bad_date() -> None:
    result = invoke("export", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since" in result.output


def test_export_does_not_include_its_own_event(db: Session) -> None:
    seed(db, 1)
    first = invoke("export")
    second = invoke("export")
    assert len(first.stdout.splitlines()) == 1
    assert [json.loads(x)["action"] for x in second.stdout.splitlines()] == [
        "staff.created",
        "audit.exported",
    ]


def test_verify_shows_a_progress_bar_on_a_terminal(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from privacyops.audit import cli

    seed(db, 4)
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=80))
    monkeypatch.setattr(cli, "PROGRESS_THRESHOLD", 1)
    result = invoke("verify", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == "audit log intact: 4 events\n"
    assert "verifying" in screen.getvalue()
