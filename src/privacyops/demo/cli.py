"""`privacyops demo create`: build the demo retail shop to try rights requests against."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from privacyops.demo import shop
from privacyops.settings import get_settings

demo_app = typer.Typer(help="The demo retail shop.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@demo_app.command("create")
def create(
    customers: Annotated[
        int, typer.Option(min=2, help="Customers to create, the known demo customers included.")
    ] = shop.DEFAULT_CUSTOMERS,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same rows.")] = 1,
    url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the shop's database (default: data_dir/demo-shop.db)."
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop the shop's tables first if it has data.")
    ] = False,
) -> None:
    """Create the demo shop's database, filled with customers deterministically from SEED."""
    target = url or shop.default_url(get_settings().data_dir)
    with Progress(
        TextColumn("customers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task("customers", total=customers)
        counts = shop.generate(
            target,
            customers=customers,
            seed=seed,
            progress=lambda done, _total: bar.update(task, completed=done),
            reset=reset,
        )
    out.print(f"demo shop ready: {shop.safe_url(target)}")
    out.print(", ".join(f"{table} {count:,}" for table, count in counts.items()))
    out.print("known demo customers, to try requests with:")
    for known in shop.KNOWN_CUSTOMERS:
        out.print(f"  {known.email}  {known.name}: {known.holds}")
