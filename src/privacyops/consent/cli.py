"""`privacyops consent ...`: bring choices recorded by an earlier consent system into the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from privacyops import runtime
from privacyops.consent import people
from privacyops.db import unit_of_work
from privacyops.errors import InvalidInput
from privacyops.models.types import utcnow
from privacyops.settings import get_settings

consent_app = typer.Typer(help="Consent: the ledger of people's choices.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
# A progress bar is worth drawing from this many rows on.
PROGRESS_FROM = 1000


@consent_app.callback()
def consent() -> None:
    """Consent: the ledger of people's choices."""


@consent_app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with a header: email or phone, purpose, allowed, and optionally "
            "recorded_at, wording, state.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and count; write nothing.")
    ] = False,
) -> None:
    """Import choices from a CSV file, all or nothing.

    The whole file is checked first: every bad row is reported as FILE:LINE: field: message
    (the header is line 1) and nothing is written (exit code 2). Then the rows are recorded in
    one transaction as `import`. Importing the same file again records nothing twice; a choice
    dated before a person's current decision is kept in their history without replacing it.
    """
    now = utcnow()
    try:
        rows = people.read_import(file.read_bytes(), str(file), now)
    except InvalidInput as invalid:
        for problem in invalid.problems:
            err.print(problem.render(), markup=False)
        err.print(f"{file}: {len(invalid.problems)} problem(s); nothing imported", markup=False)
        raise typer.Exit(2) from None
    settings = get_settings()
    vault = runtime.open_vault(settings)
    with (
        unit_of_work(runtime.open_session_factory(settings)) as db,
        Progress(console=err, disable=len(rows) < PROGRESS_FROM) as progress,
    ):
        task = progress.add_task("importing", total=len(rows))
        result = people.import_choices(
            db,
            vault,
            rows,
            now=now,
            dry_run=dry_run,
            on_row=lambda: progress.advance(task),
        )
        if dry_run:
            db.rollback()
    _report(str(file), result)


def _report(name: str, result: people.ImportResult) -> None:
    verb = "would record" if result.dry_run else "recorded"
    people_verb = "would be created" if result.dry_run else "created"
    out.print(
        f"{name}: {result.rows} row(s); {verb} {result.recorded}, "
        f"{result.already_recorded} already recorded; "
        f"{result.people_created} new person(s) {people_verb}",
        markup=False,
    )
    if result.history_only:
        out.print(
            f"{result.history_only} choice(s) dated before the person's current decision: "
            "kept in the history, the later decision stands",
            markup=False,
        )
    if result.dry_run:
        out.print("dry run: nothing written", markup=False)
