"""The `privacyops` command. Each domain adds its own sub-commands; this file only wires them.

Errors come out as one line on stderr with exit code 1 (bad input, refused action) or 2 (bad
usage, from Typer), never as a traceback.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from privacyops.audit.cli import audit_app
from privacyops.connectors.cli import datasets_app, datastores_app
from privacyops.consent.cli import consent_app
from privacyops.demo.cli import demo_app
from privacyops.errors import PrivacyOpsError
from privacyops.policy.cli import policy_app
from privacyops.reports.cli import reports_app
from privacyops.retention.cli import holds_app
from privacyops.rights.cli import rules_app
from privacyops.settings import get_settings
from privacyops.staff.cli import staff_app
from privacyops.vault.cli import keys_app

app = typer.Typer(
    name="privacyops",
    help="privacyops: make a privacy policy true inside your systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The platform's own database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(policy_app, name="policy")
app.add_typer(staff_app, name="staff")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(rules_app, name="rules")
app.add_typer(reports_app, name="reports")
app.add_typer(datasets_app, name="datasets")
app.add_typer(datastores_app, name="datastores")
app.add_typer(holds_app, name="holds")
app.add_typer(demo_app, name="demo")
app.add_typer(consent_app, name="consent")

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


@app.callback()
def _configure() -> None:
    """Every command logs in one format, with personal data redacted."""
    from privacyops.logs import configure_logging

    configure_logging(get_settings())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
) -> None:
    """Apply database migrations up to REVISION (default: the latest)."""
    from privacyops.migrate import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url, revision)
    out.print(f"database at {revision}: {_safe_url(settings.effective_database_url)}")


@app.command()
def setup() -> None:
    """Prepare a fresh install: data folder, migrations, and the default policy if none exists."""
    from privacyops.migrate import upgrade
    from privacyops.policy.bootstrap import publish_default_policy
    from privacyops.secretkey import ensure_secret_key
    from privacyops.vault.setup import ensure_keyring

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    for message in (ensure_secret_key(settings), ensure_keyring(settings)):
        if message:
            out.print(message)
    upgrade(settings.effective_database_url)
    out.print(f"database ready: {_safe_url(settings.effective_database_url)}")
    message = publish_default_policy(settings, today=date.today())
    out.print(message)
    if settings.demo_shop:
        from privacyops.demo.connect import connect_demo_shop

        out.print(connect_demo_shop(settings))


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen address (default from settings).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from settings).")] = None,
) -> None:
    """Serve the Privacy Center, the admin console and the API."""
    import uvicorn

    from privacyops.app import create_app

    settings = get_settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    out.print(f"privacyops serving on http://{bind_host}:{bind_port}")
    # log_config=None: uvicorn's records go through our handler, and so through its redaction.
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_config=None)


@jobs_app.command("list")
def jobs_list() -> None:
    """List the registered jobs and how often periodic ones run."""
    from privacyops.jobs.registry import registered

    for job in sorted(registered().values(), key=lambda j: j.name):
        every = f"every {job.every_seconds} s" if job.every_seconds else "on demand"
        out.print(f"{job.name:<40} {every}")


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="The job's name (see `jobs list`).")],
) -> None:
    """Run one job now, in this process (for cron, or to catch up by hand)."""
    from privacyops.jobs.registry import run_job

    run_job(name, get_settings())
    out.print(f"job {name} done")


@app.command()
def worker(
    beat: Annotated[bool, typer.Option(help="Also run the periodic-job clock.")] = True,
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Run a Celery worker for PRIVACYOPS_JOB_BACKEND=celery (jobs travel through Redis)."""
    from privacyops.jobs.celery_app import celery_app

    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
    celery_app(get_settings()).worker_main([*argv, "--beat"] if beat else argv)


def _safe_url(url: str) -> str:
    """A database URL without its password, fit for a terminal or a log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        app()
    except PrivacyOpsError as exc:
        err.print(f"privacyops: error: {exc.message}", markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("privacyops: interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        err.print(f"privacyops: error: {describe_unexpected(exc)}", markup=False)
        sys.exit(1)


def describe_unexpected(exc: Exception) -> str:
    """One line for an error no command expected: a bad setting, an unreachable database, ..."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        fields = "; ".join(
            f"PRIVACYOPS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        return f"invalid setting {fields}"
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        return f"cannot reach the database: {reason}"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"database error: {reason}"
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


if __name__ == "__main__":
    main()
