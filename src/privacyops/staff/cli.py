"""`privacyops staff ...`: manage staff accounts and their API tokens. Audit actor: `cli`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from privacyops import db as database
from privacyops import runtime
from privacyops.errors import InvalidInput
from privacyops.settings import get_settings
from privacyops.staff import service
from privacyops.staff.permissions import Role

staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Staff API tokens.", no_args_is_help=True)
staff_app.add_typer(token_app, name="token")
out = Console(highlight=False, soft_wrap=True)

ROLES = ", ".join(r.value for r in Role)
EmailArg = Annotated[str, typer.Argument(help="The staff member's email address.")]


def _session_factory() -> sessionmaker[Session]:
    # Looked up on the module at call time, so that tests can point it at their transaction.
    return runtime.open_session_factory(get_settings())


def read_password() -> str:
    """From a hidden prompt with confirmation, or the first line of stdin when it is not a TTY
    (`echo "$PW" | privacyops staff create ...`). Never an argument: it would land in history."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise InvalidInput("no password on stdin")
    return password


@staff_app.command("create")
def create(
    email: EmailArg,
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLES}.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
) -> None:
    """Create a staff account; the password is asked for (or read from stdin)."""
    service.parse_role(role)  # a typo in the role fails before the password is asked for
    password = read_password()
    with database.unit_of_work(_session_factory()) as db:
        staff = service.create_staff(
            db,
            email=email,
            role=role,
            password=password,
            display_name=name,
            actor=service.CLI,
        )
        out.print(f"created {staff.email} ({staff.role}), id {staff.id}", markup=False)


@staff_app.command("list")
def list_staff(
    limit: Annotated[int, typer.Option(min=1, max=service.MAX_PAGE, help="Rows to show.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
) -> None:
    """List staff accounts by email."""
    with database.unit_of_work(_session_factory()) as db:
        page = service.list_staff(db, offset=offset, limit=limit, actor=service.CLI)
        rows = [
            (
                str(s.id),
                s.email,
                s.role,
                "active" if s.active else "disabled",
                f"{s.last_login_at:%Y-%m-%d %H:%M} UTC" if s.last_login_at else "never",
            )
            for s in page.items
        ]
    if not rows:
        out.print("no staff accounts yet (create one with `privacyops staff create`)")
        return
    header = ("id", "email", "role", "status", "last login")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        out.print(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), markup=False
        )
    if page.total > page.offset + len(rows):
        out.print(f"({len(rows)} of {page.total} shown)")


@staff_app.command("disable")
def disable(email: EmailArg) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    with database.unit_of_work(_session_factory()) as db:
        staff = service.staff_by_email(db, email)
        service.disable(db, staff, actor=service.CLI)
        out.print(f"disabled {staff.email}", markup=False)


@staff_app.command("enable")
def enable(email: EmailArg) -> None:
    """Enable a disabled account again (and lift a lockout)."""
    with database.unit_of_work(_session_factory()) as db:
        staff = service.staff_by_email(db, email)
        service.enable(db, staff, actor=service.CLI)
        out.print(f"enabled {staff.email}", markup=False)


@staff_app.command("set-role")
def set_role(
    email: EmailArg, role: Annotated[str, typer.Argument(help=f"One of: {ROLES}.")]
) -> None:
    """Change an account's role; its sessions end."""
    with database.unit_of_work(_session_factory()) as db:
        staff = service.staff_by_email(db, email)
        service.set_role(db, staff, role, actor=service.CLI)
        out.print(f"{staff.email} is now {staff.role}", markup=False)


@token_app.command("create")
def token_create(
    email: EmailArg,
    role: Annotated[str, typer.Option("--role", help=f"The token's scope: one of {ROLES}.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
) -> None:
    """Issue an API token for EMAIL and print it once; only its hash is kept."""
    with database.unit_of_work(_session_factory()) as db:
        staff = service.staff_by_email(db, email)
        issued = service.issue_token(db, staff, name=name, role=role, actor=service.CLI)
        token_id = issued.token.id
    # Printed only after the commit: a token that was never stored is never shown.
    out.print(f"token {token_id} for {staff.email} ({issued.token.role}):", markup=False)
    typer.echo(issued.plaintext)
    out.print("Keep it now: it is not shown again.")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(min=1, help="The token's id.")],
) -> None:
    """Revoke an API token; it stops working at once."""
    with database.unit_of_work(_session_factory()) as db:
        token = service.get_token(db, token_id)
        service.revoke_token(db, token, actor=service.CLI)
    out.print(f"revoked token {token_id}")
