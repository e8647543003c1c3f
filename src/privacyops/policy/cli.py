"""`privacyops policy ...`: check, show, diff and publish policy manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from privacyops.errors import FieldProblem
from privacyops.policy.loader import load_manifest_file

policy_app = typer.Typer(help="The privacy policy as code.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(problems: list[FieldProblem]) -> None:
    for problem in problems:
        label = "warning" if problem.severity == "warning" else "error"
        err.print(f"{problem.render()} [{label}]", markup=False)


@policy_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Policy manifest (YAML) to check.")],
) -> None:
    """Report every problem in FILE at once, each with file, line and field.

    Exit code 1 when there are errors; warnings (the policy lags behind the law) alone exit 0.
    """
    from privacyops.policy.lawcheck import check_against_law

    loaded = load_manifest_file(file, law_check=check_against_law)
    print_problems(loaded.problems)
    if not loaded.ok:
        err.print(f"{file}: {len(loaded.errors)} error(s), {len(loaded.warnings)} warning(s)")
        raise typer.Exit(1)
    out.print(f"{file}: valid ({len(loaded.warnings)} warning(s))")
