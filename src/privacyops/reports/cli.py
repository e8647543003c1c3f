"""`privacyops reports ...`: the reports, printed or written as CSV.

Aggregates only (no personal data): nothing is recorded in the audit log, like on the page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from privacyops import db as database
from privacyops import runtime
from privacyops.errors import PrivacyOpsError
from privacyops.reports import service
from privacyops.reports.schemas import GROUND_LABELS, KIND_SHORT, Metrics
from privacyops.settings import get_settings

reports_app = typer.Typer(help="Reports on rights requests.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _session_factory() -> sessionmaker[Session]:
    # Looked up on the modules at call time, so that tests can point them at their transaction.
    return runtime.open_session_factory(get_settings())


@reports_app.command("ccpa-7102")
def ccpa_7102(
    year: Annotated[
        str | None,
        typer.Option(help="Calendar year, e.g. 2026 (default: the previous one)."),
    ] = None,
    california_only: Annotated[
        bool,
        typer.Option("--california-only", help="Count California consumers only."),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the CSV to FILE instead of printing a table."),
    ] = None,
) -> None:
    """The CCPA 11 CCR 7102 metrics of a calendar year: received, complied with, denied and days
    to respond, per kind of request."""
    try:
        metrics = _metrics(year, california_only)
    except PrivacyOpsError as error:
        err.print(f"error: {error.message}", markup=False)
        raise typer.Exit(1) from None
    if output is None:
        out.print(_table(metrics))
        return
    try:
        output.write_text(service.ccpa_csv(metrics), encoding="utf-8", newline="")
    except OSError as error:
        err.print(f"error: cannot write {output}: {error.strerror}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"wrote {output}: {service.scope_note(metrics)}", markup=False)


def _today() -> date:
    return datetime.now(UTC).date()


def _metrics(year: str | None, california_only: bool) -> Metrics:
    today = _today()
    chosen = service.parse_year(year, today)
    with database.unit_of_work(_session_factory()) as db:
        return service.ccpa_metrics(db, chosen, california_only=california_only, today=today)


def _table(metrics: Metrics) -> Table:
    """Compact enough for 80 columns; the CSV has every figure in its own column."""
    grounds = " / ".join(GROUND_LABELS.values())
    table = Table(
        title=service.scope_note(metrics),
        title_justify="left",
        caption=f"* denied because: {grounds}. Median, mean: days to a substantive response.",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, 0, 0, 1),
    )
    table.add_column("Request", no_wrap=True)
    for name in ("Received", "Complied", "Denied", "Grounds*", "Median", "Mean"):
        table.add_column(name, justify="right", no_wrap=True)
    for k in metrics.kinds:
        by_ground = (k.denied_not_verifiable, k.denied_not_by_consumer, k.denied_exempt,
                     k.denied_other)  # fmt: skip
        table.add_row(
            KIND_SHORT[k.kind],
            str(k.received),
            str(k.complied),
            str(k.denied),
            "/".join(str(n) for n in by_ground),
            "-" if k.median_days is None else f"{k.median_days:.1f}",
            "-" if k.mean_days is None else f"{k.mean_days:.1f}",
        )
    return table
