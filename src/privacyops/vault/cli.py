"""`privacyops keys ...`: the vault's key ring."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="The vault's encryption keys.", no_args_is_help=True)
