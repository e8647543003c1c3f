"""`privacyops staff ...`: manage staff accounts."""

from __future__ import annotations

import typer

staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
