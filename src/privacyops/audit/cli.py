"""`privacyops audit ...`: verify and export the audit log."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from privacyops import db as database
from privacyops import runtime
from privacyops.audit import service
from privacyops.audit.actions import AuditAction
from privacyops.audit.schemas import AuditFilters
from privacyops.audit.verify import VerifyResult, verify_chain
from privacyops.settings import get_settings

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CLI_ACTOR = "cli"
# Below this many events a check takes well under a second: no bar.
PROGRESS_THRESHOLD = 20_000
DATE_FORMATS = ["%Y-%m-%d"]


def _session_factory() -> sessionmaker[Session]:
    # Looked up on the modules at call time, so that tests can point them at their transaction.
    return runtime.open_session_factory(get_settings())


@audit_app.command("verify")
def verify(
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Events read per query.")
    ] = 1000,
) -> None:
    """Walk the whole chain; name the first edited, deleted or reordered event.

    Exit code 0 when the log is intact, 1 at the first break. An intact check is recorded as
    `audit.verified`. A broken chain is left exactly as found: nothing is appended to it, so the
    evidence stays as it was for whoever investigates (the exit code and message are the alert).
    """
    factory = _session_factory()
    # The walk reads a snapshot: on SQLite a long one keeps no write lock from the server.
    with database.reading(factory) as snapshot:
        result = _verify_with_progress(snapshot, batch_size)
    if result.ok:
        with database.unit_of_work(factory) as db:
            service.record(
                db, AuditAction.audit_verified, actor=CLI_ACTOR, details={"events": result.checked}
            )
    if result.broken is not None:
        err.print(
            f"audit log broken: {result.broken.message} ({result.checked} events checked)",
            markup=False,
        )
        raise typer.Exit(1)
    out.print(f"audit log intact: {result.checked} events")


def _verify_with_progress(db: Session, batch_size: int) -> VerifyResult:
    with _progress_bar() as progress:
        task: list[TaskID] = []

        def report(checked: int, total: int) -> None:
            if progress is None or total < PROGRESS_THRESHOLD:
                return
            if not task:
                task.append(progress.add_task("verifying", total=total))
            progress.update(task[0], completed=checked)

        return verify_chain(db, batch_size=batch_size, progress=report)


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    if not err.is_terminal:
        yield None  # piped or captured: keep stderr to the one-line result
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        yield progress


@audit_app.command("export")
def export(
    since: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="First day included (UTC), YYYY-MM-DD."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="Last day included (UTC), YYYY-MM-DD."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor, e.g. staff:3.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, or a prefix such as `staff.`.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Export events as JSON lines, oldest first, for a SIEM.

    The export is recorded (`audit.exported`) and committed BEFORE any event is written, so even
    an interrupted export leaves a trace. It covers the events up to that moment.
    """
    filters = AuditFilters(actor=actor, action=action, date_from=_day(since), date_to=_day(until))
    factory = _session_factory()
    with database.unit_of_work(factory) as db:
        upto = service.head_seq(db)
        total = service.count_events(db, filters, upto_seq=upto)
        details = {
            **filters.model_dump(mode="json", exclude_none=True),
            "events": total,
            "to": "file" if output else "stdout",
        }
        service.record(db, AuditAction.audit_exported, actor=CLI_ACTOR, details=details)
    with database.reading(factory) as db, _open_output(output) as stream:
        for event in service.export_events(db, filters, upto_seq=upto):
            stream.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
    if output is not None:
        err.print(f"exported {total} events to {output}", markup=False)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    # Owner-only: the log names staff, clients and subject hashes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8", newline="\n") as stream:
        yield stream
