"""`privacyops datasets ...`: check dataset declarations against the policy and the datastore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from privacyops.connectors.datasets import DatasetCheck, check_database, check_dataset_files
from privacyops.errors import FieldProblem, PrivacyOpsError
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest
from privacyops.settings import get_settings

datasets_app = typer.Typer(
    help="Dataset declarations: where personal data lives.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _print(problems: list[FieldProblem]) -> None:
    for problem in problems:
        label = "warning" if problem.severity == "warning" else "error"
        err.print(f"{problem.render()} [{label}]", markup=False)


@datasets_app.callback()
def datasets() -> None:
    """Dataset declarations: where personal data lives."""


@datasets_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Dataset declarations (YAML) to check.")],
    policy: Annotated[
        Path | None,
        typer.Option(help="Policy manifest the datasets must agree with (default: the settings')."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL of the datastore, to check its tables and indexes."),
    ] = None,
) -> None:
    """Report every problem in FILES at once, each with file, line and field.

    Exit code 1 when there are errors; warnings (such as a missing index) alone exit 0.
    """
    manifest = _policy(policy or get_settings().default_policy_file)
    result = check_dataset_files(files, manifest)
    if url is not None and result.datasets:
        result.problems += _live_problems(result, url)
    _print(result.problems)
    summary = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
    if not result.ok:
        err.print(f"{len(files)} file(s): {summary}", markup=False)
        raise typer.Exit(1)
    out.print(f"{len(files)} file(s), {len(result.datasets)} dataset(s): valid ({summary})")


def _policy(path: Path) -> PolicyManifest:
    loaded = load_manifest_file(path)
    if loaded.manifest is None or not loaded.ok:
        _print(loaded.errors)
        raise PrivacyOpsError(f"{path}: the policy manifest is not valid; fix it first")
    return loaded.manifest


def _live_problems(result: DatasetCheck, url: str) -> list[FieldProblem]:
    try:
        engine = create_engine(url)
    except (ArgumentError, ValueError) as exc:
        raise PrivacyOpsError("--url is not a valid SQLAlchemy database URL") from exc
    except ImportError as exc:
        raise PrivacyOpsError(
            f"--url needs a database driver that is not installed: {exc.name}"
        ) from exc
    # Never print the URL itself: it may carry a password.
    safe = engine.url.render_as_string(hide_password=True)
    database = engine.url.database
    is_file = engine.url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
    # Connecting would create an empty file and report every table as missing.
    if is_file and not Path(str(database)).exists():
        engine.dispose()
        raise PrivacyOpsError(f"--url: there is no SQLite database at {database}")
    try:
        with engine.connect() as connection:
            return check_database(result.datasets, inspect(connection))
    except SQLAlchemyError as exc:
        raise PrivacyOpsError(f"cannot inspect the database {safe}: {type(exc).__name__}") from exc
    finally:
        engine.dispose()
