"""`privacyops policy ...`: check, show, diff and publish policy manifests."""

from __future__ import annotations

import getpass
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from privacyops import runtime
from privacyops.db import unit_of_work
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.policy import repository, service
from privacyops.policy.diff import diff_manifests
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest
from privacyops.settings import get_settings

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


# --- versions: show, versions, diff, publish ---------------------------------------------------

_VERSION_REF = re.compile(r"^v?(\d+)$")


def _session_factory() -> sessionmaker[Session]:
    # Looked up on the module at call time, so that tests can point it at their transaction.
    return runtime.open_session_factory(get_settings())


@policy_app.command("show")
def show(
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, help="Show this version instead of the one in force."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Show the policy version in force today (or version N): dates, title and counts."""
    today = date.today()
    with unit_of_work(_session_factory()) as db:
        chosen = (
            service.get_version(db, version)
            if version is not None
            else service.version_in_force(db, today)
        )
        if as_json:
            typer.echo(json.dumps(chosen.manifest, indent=2, ensure_ascii=False))
            return
        in_force = repository.version_in_force(db, today)
        upcoming = service.upcoming_material_change(db, today)
    manifest = service.stored_manifest(chosen)
    status = service.status_of(chosen, in_force, today)
    out.print(manifest.title, markup=False)
    out.print(
        f"version {chosen.number} ({status}), effective on {chosen.effective_on}, "
        f"last updated {manifest.last_updated}",
        markup=False,
    )
    out.print(_counts(manifest), markup=False)
    if upcoming is not None and upcoming.number != chosen.number:
        out.print(
            f"announced: version {upcoming.number} brings a material change "
            f"on {upcoming.effective_on}",
            markup=False,
        )


def _counts(manifest: PolicyManifest) -> str:
    counts = (
        _count(len(manifest.data_categories), "data category", "data categories"),
        _count(len(manifest.purposes), "purpose", "purposes"),
        _count(len(manifest.recipients), "recipient", "recipients"),
        _count(len(manifest.rights.jurisdictions), "state", "states"),
    )
    return ", ".join(counts) + " with named rights"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@policy_app.command("versions")
def versions(
    limit: Annotated[int, typer.Option(min=1, max=service.MAX_PAGE, help="Rows to show.")] = 50,
) -> None:
    """List published versions, newest first."""
    today = date.today()
    with unit_of_work(_session_factory()) as db:
        page = service.list_versions(db, offset=0, limit=limit)
        in_force = repository.version_in_force(db, today)
    if not page.items:
        out.print("no policy version published yet")
        return
    out.print(f"{'version':>7}  {'effective':10}  {'status':10}  {'material':8}  published")
    for v in page.items:
        status = service.status_of(v, in_force, today)
        published = f"{v.published_at:%Y-%m-%d %H:%M} UTC by {v.published_by}"
        material = "yes" if v.material_change else "no"
        out.print(
            f"{v.number:>7}  {v.effective_on!s:10}  {status:10}  {material:8}  {published}",
            markup=False,
        )
    if page.total > len(page.items):
        out.print(f"({len(page.items)} of {page.total} versions shown)")


@policy_app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="Older manifest: a file, or a version (v3 or 3).")],
    new: Annotated[str, typer.Argument(help="Newer manifest: a file, or a version (v4 or 4).")],
) -> None:
    """List every change from OLD to NEW, each marked MATERIAL or minor (policy section 13).

    Exit code 0 whatever the changes; 1 when a file is invalid or a version does not exist.
    """
    changes = diff_manifests(_resolve(old), _resolve(new))
    for change in changes:
        if change.material:
            out.print(f"MATERIAL  {change.description} ({change.reason})", markup=False)
        else:
            out.print(f"minor     {change.description}", markup=False)
    material = sum(1 for change in changes if change.material)
    if not changes:
        out.print("no changes")
    else:
        out.print(f"{len(changes)} change(s), {material} material")


def _resolve(ref: str) -> PolicyManifest:
    """A manifest file if one exists at REF, else a published version number (`v3` or `3`)."""
    match = _VERSION_REF.match(ref.strip())
    if match and not Path(ref).exists():
        with unit_of_work(_session_factory()) as db:
            return service.stored_manifest(service.get_version(db, int(match.group(1))))
    loaded = load_manifest_file(Path(ref))
    if loaded.manifest is None or loaded.errors:
        print_problems(loaded.problems)
        raise InvalidInput(f"{ref}: {len(loaded.errors)} error(s); fix them with `policy check`")
    return loaded.manifest


@policy_app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="Policy manifest (YAML) to publish.")],
    effective: Annotated[
        datetime,
        typer.Option(
            "--effective",
            formats=["%Y-%m-%d"],
            help="The day the version takes effect (YYYY-MM-DD).",
        ),
    ],
    by: Annotated[
        str, typer.Option("--by", help="Who publishes it (recorded with the version).")
    ] = "",
) -> None:
    """Publish FILE as a new policy version taking effect on DATE.

    Refused when FILE has errors, when the date is in the past (except for the first version),
    earlier than the latest version's, or, for a material change, before the notice period of
    policy section 13 has run. Publishing the latest version's content again changes nothing.
    """
    from privacyops.policy.lawcheck import check_against_law

    loaded = load_manifest_file(file, law_check=check_against_law)
    print_problems(loaded.problems)
    with unit_of_work(_session_factory()) as db:
        result = service.publish(
            db, loaded, effective.date(), date.today(), published_by=by or _default_publisher()
        )
    out.print(result.message, markup=False)


def _default_publisher() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. in a container without a passwd entry
        return "cli"
