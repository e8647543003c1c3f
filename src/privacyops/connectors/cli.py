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


datastores_app = typer.Typer(
    help="Connected datastores: where the engine finds, exports and erases personal data.",
    no_args_is_help=True,
)


@datastores_app.command("list")
def datastores_list() -> None:
    """List the connected datastores, their kind and datasets (never their secrets)."""
    from privacyops import runtime
    from privacyops.connectors import registry
    from privacyops.db import unit_of_work

    with unit_of_work(runtime.open_session_factory(get_settings())) as db:
        found = registry.catalog(db)
        for key, store in found.stores.items():
            datasets = sorted(d for d, owner in found.datastore_of.items() if owner == key)
            processor = f", processor of {store.recipient}" if store.recipient else ""
            out.print(f"{key}  {store.kind}  {store.name}: {', '.join(datasets)}{processor}")
        if not found.stores:
            out.print("no datastore connected")


@datastores_app.command("add")
def datastores_add(
    key: Annotated[str, typer.Argument(help="Short name of the datastore (letters, digits, -_).")],
    declarations: Annotated[Path, typer.Option(help="Its dataset declarations (YAML).")],
    kind: Annotated[str, typer.Option(help="sql, http, email or manual.")] = "sql",
    url: Annotated[
        str | None,
        typer.Option(envvar="PRIVACYOPS_DATASTORE_URL", help="SQL: SQLAlchemy URL (to the vault)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="http/email/manual: its settings (YAML or JSON).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    recipient: Annotated[
        str | None, typer.Option(help="The policy recipient (processor) it belongs to.")
    ] = None,
) -> None:
    """Connect a datastore (or replace its settings). Declarations are checked against the
    policy in force; the URL and other secrets go to the vault, never to the database."""
    import yaml

    from privacyops import runtime
    from privacyops.connectors import registry
    from privacyops.db import unit_of_work
    from privacyops.dsr.service import manifest_of
    from privacyops.errors import InvalidInput
    from privacyops.policy.service import version_in_force

    settings = get_settings()
    text = _read_text(declarations)
    settings_data: dict[str, object] = {}
    if config is not None:
        loaded = yaml.safe_load(_read_text(config))
        if not isinstance(loaded, dict):
            raise PrivacyOpsError(f"{config}: the settings must be a mapping")
        settings_data = loaded
    secret_values = {"url": url} if url else {}
    extra = settings_data.pop("secret_values", None)
    if isinstance(extra, dict):
        secret_values.update({str(k): str(v) for k, v in extra.items()})
    from datetime import date

    try:
        with unit_of_work(runtime.open_session_factory(settings)) as db:
            manifest = manifest_of(version_in_force(db, date.today()))
            registry.register(
                db,
                runtime.open_vault(settings),
                manifest,
                key=key,
                kind=kind,
                declarations=text,
                name=name,
                config=settings_data,
                secret_values=secret_values,
                recipient=recipient,
                actor="cli",
                filename=str(declarations),
            )
    except InvalidInput as exc:
        _print(exc.problems)
        raise PrivacyOpsError(str(exc)) from None
    out.print(f"datastore {key!r} connected")


@datastores_app.command("test")
def datastores_test(key: Annotated[str, typer.Argument(help="The datastore to reach.")]) -> None:
    """Check that a datastore can be reached with its stored settings."""
    from privacyops import runtime
    from privacyops.connectors import registry
    from privacyops.db import unit_of_work

    settings = get_settings()
    with unit_of_work(runtime.open_session_factory(settings)) as db:
        store = registry.get(db, key)
        opened = registry.connector_settings(db, runtime.open_vault(settings), store)
    connector = registry.open_connector(opened)
    try:
        connector.test_connection()
    finally:
        connector.close()
    out.print(f"datastore {key!r}: reachable")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PrivacyOpsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
