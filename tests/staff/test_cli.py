"""`privacyops staff ...` against the test database; the password comes from stdin."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.cli import app
from privacyops.errors import Conflict, InvalidInput, NotFound
from privacyops.models.staff import ApiToken, StaffMember
from privacyops.staff import passwords, service
from tests.staff.helpers import PASSWORD, events

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("use_test_database")


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, ["staff", *args], input=input)


def create(email: str = "ann@example.com", role: str = "admin") -> None:
    result = invoke("create", email, "--role", role, "--name", "Ann", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def test_create_reads_the_password_from_stdin(db: Session) -> None:
    result = invoke("create", "Ann@Example.com", "--role", "admin", input=f"{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("created ann@example.com (admin), id ")
    staff = db.scalars(select(StaffMember)).one()
    assert passwords.verify(staff.password_hash, PASSWORD)
    assert PASSWORD not in result.output
    assert events(db, "staff.created")[0].actor == "cli"


def test_create_refuses_a_weak_password_and_a_bad_role(db: Session) -> None:
    weak = invoke("create", "ann@example.com", "--role", "admin", input="short\n")
    assert isinstance(weak.exception, InvalidInput)
    assert "short" not in weak.exception.message
    role = invoke("create", "ann@example.com", "--role", "boss", input=f"{PASSWORD}\n")
    assert isinstance(role.exception, InvalidInput)
    empty = invoke("create", "ann@example.com", "--role", "admin", input="")
    assert isinstance(empty.exception, InvalidInput)
    assert db.scalars(select(StaffMember)).all() == []


def test_create_twice_is_a_conflict() -> None:
    create()
    again = invoke("create", "ANN@example.com", "--role", "agent", input=f"{PASSWORD}\n")
    assert isinstance(again.exception, Conflict)


def test_list_disable_enable_set_role(db: Session) -> None:
    create()
    create("bob@example.com", "agent")

    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "email", "role", "status", "last", "login"]
    assert [line.split()[1:4] for line in lines[1:]] == [
        ["ann@example.com", "admin", "active"],
        ["bob@example.com", "agent", "active"],
    ]

    assert invoke("disable", "bob@example.com").stdout == "disabled bob@example.com\n"
    assert "disabled" in invoke("list").stdout.splitlines()[2]
    assert invoke("enable", "BOB@example.com").stdout == "enabled bob@example.com\n"
    assert (
        invoke("set-role", "bob@example.com", "auditor").stdout
        == "bob@example.com is now auditor\n"
    )
    actions = [e.action for e in events(db)]
    assert actions[-5:] == [
        "staff.listed",
        "staff.disabled",
        "staff.listed",
        "staff.enabled",
        "staff.role_changed",
    ]


def test_the_last_admin_cannot_be_disabled() -> None:
    create()
    result = invoke("disable", "ann@example.com")
    assert isinstance(result.exception, Conflict)


def test_unknown_email_is_an_error() -> None:
    assert isinstance(invoke("disable", "nobody@example.com").exception, NotFound)


def test_token_create_prints_it_once_and_revoke_ends_it(db: Session) -> None:
    create()

    result = invoke("token", "create", "ann@example.com", "--role", "auditor", "--name", "siem")

    assert result.exit_code == 0, result.output
    plaintext = result.stdout.splitlines()[1]
    assert plaintext.startswith("pops_")
    token = db.scalars(select(ApiToken)).one()
    assert token.token_hash == service.digest(plaintext)
    assert service.verify_token(db, plaintext) is not None

    revoked = invoke("token", "revoke", str(token.id))
    assert revoked.stdout == f"revoked token {token.id}\n"
    db.expire_all()
    assert service.verify_token(db, plaintext) is None


def test_token_scope_cannot_exceed_the_owner() -> None:
    create("eve@example.com", "agent")
    result = invoke("token", "create", "eve@example.com", "--role", "admin", "--name", "x")
    assert isinstance(result.exception, InvalidInput)
