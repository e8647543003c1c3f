"""`privacyops holds ...`: legal holds that block erasure."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from privacyops import runtime
from privacyops.db import unit_of_work
from privacyops.retention import holds
from privacyops.settings import get_settings

holds_app = typer.Typer(help="Legal holds: subjects whose data must not be erased.")
out = Console(highlight=False, soft_wrap=True)


@holds_app.command("place")
def place(
    email: Annotated[str, typer.Option(help="The held subject's email address.")],
    reason: Annotated[str, typer.Option(help="Why the data must be kept (case, authority).")],
) -> None:
    """Hold a subject: erasure requests will keep all their data until the hold is released."""
    settings = get_settings()
    with unit_of_work(runtime.open_session_factory(settings)) as db:
        hold = holds.place(db, runtime.open_vault(settings), email, reason, actor="cli")
        out.print(f"legal hold {hold.id} placed")


@holds_app.command("release")
def release(hold_id: Annotated[int, typer.Argument(help="The hold's number.")]) -> None:
    """Release a hold; later erasure requests erase as usual."""
    settings = get_settings()
    with unit_of_work(runtime.open_session_factory(settings)) as db:
        holds.release(db, runtime.open_vault(settings), hold_id, actor="cli")
    out.print(f"legal hold {hold_id} released")


@holds_app.command("list")
def list_holds() -> None:
    """The active holds (subject ids only: the reason may be read, the person is not shown)."""
    with unit_of_work(runtime.open_session_factory(get_settings())) as db:
        found = holds.active(db)
        for hold in found:
            since = f"{hold.placed_at:%Y-%m-%d}"
            out.print(f"{hold.id}  subject {hold.subject_id}  since {since}: {hold.reason}")
        if not found:
            out.print("no active legal hold")
