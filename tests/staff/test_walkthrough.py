"""The issue's walkthrough, as the README tells it, in Debian's chromium.

Create an admin with the CLI, log in at /admin, create an agent through the Staff page, see both
creations in the audit log, log out; then the agent logs in, is refused the Staff page, logs out.
Each console page is also saved as a screenshot under /tmp for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.cli import app as cli
from privacyops.models.staff import StaffMember
from tests.staff.helpers import FakeLimiter, events

ADMIN = "ada@example.com"
ADMIN_PASSWORD = "the admin's long passphrase"
AGENT = "ben@example.com"
AGENT_PASSWORD = "the agent's long passphrase"
SHOTS = Path("/tmp/privacyops-walkthrough")

pytestmark = pytest.mark.usefixtures("use_test_database")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/admin")
    assert page.url == f"{base}/admin/login?next=/admin"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    assert page.url == f"{base}/admin"
    assert page.locator("h1").inner_text() == "Dashboard"


def log_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Log out").click()
    assert page.url == f"{base}/admin/login"
    page.goto(f"{base}/admin")
    assert page.url.startswith(f"{base}/admin/login?next=")


def test_the_readme_walkthrough(browser: Any, app: FastAPI, live_url: str, db: Session) -> None:
    app.state.login_limiter = FakeLimiter()
    created = CliRunner().invoke(
        cli, ["staff", "create", ADMIN, "--role", "admin"], input=f"{ADMIN_PASSWORD}\n"
    )
    assert created.exit_code == 0, created.output
    admin = db.scalars(select(StaffMember).where(StaffMember.email == ADMIN)).one()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    # The admin logs in and sees the dashboard.
    page.goto(f"{live_url}/admin")
    shot(page, "01-login")
    log_in(page, live_url, ADMIN, ADMIN_PASSWORD)
    nav = page.locator(".site-nav a").all_inner_texts()
    assert nav == ["Dashboard", "Staff", "Audit log", "Reports", "Account"]
    shot(page, "02-dashboard-admin")

    # Staff: create an agent through the form (a mistake first, then right).
    page.get_by_role("link", name="Staff", exact=True).first.click()
    assert page.url == f"{live_url}/admin/staff"
    assert page.locator("h1").inner_text() == "Staff"
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Name", exact=True).fill("Ben")
    page.get_by_label("Role", exact=True).select_option("agent")
    page.get_by_label("Initial password").fill(AGENT_PASSWORD)
    page.get_by_label("Repeat the password").fill("not the same")
    page.get_by_role("button", name="Create account").click()
    assert page.locator("#password_confirm-error").inner_text() == "Does not match the password"
    assert page.get_by_label("Email").input_value() == AGENT
    shot(page, "03-staff-error")
    page.get_by_label("Initial password").fill(AGENT_PASSWORD)
    page.get_by_label("Repeat the password").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    assert page.url.startswith(f"{live_url}/admin/staff?done=created&id=")
    assert page.get_by_role("status").inner_text() == f"Created {AGENT} with the role agent."
    assert page.locator("table.staff-table tbody tr").count() == 2
    shot(page, "04-staff-created")
    agent = db.scalars(select(StaffMember).where(StaffMember.email == AGENT)).one()

    # Both creations are in the audit log: the admin's by the CLI, the agent's by the admin.
    wanted = {("cli", f"staff:{admin.id}"), (f"staff:{admin.id}", f"staff:{agent.id}")}
    assert {(e.actor, e.target) for e in events(db, "staff.created")} == wanted
    page.get_by_role("link", name="Audit log", exact=True).first.click()
    assert page.url.startswith(f"{live_url}/admin/audit")
    page.get_by_label("Action").select_option("staff.created")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr").all_inner_texts()
    assert any("cli" in r and f"staff:{admin.id}" in r for r in rows), rows
    assert any(f"staff:{admin.id}" in r and f"staff:{agent.id}" in r for r in rows), rows
    shot(page, "05-audit")

    # The account page: who you are, password, tokens.
    page.get_by_role("link", name="Account", exact=True).first.click()
    assert page.locator("h1").inner_text() == "Your account"
    shot(page, "06-account")
    page.get_by_label("Name", exact=True).fill("nightly export")
    page.get_by_label("Scope").select_option("auditor")
    page.get_by_role("button", name="Create token").click()
    value = page.locator("#token-value").input_value()
    assert value.startswith("pops_")
    shot(page, "07-token-once")
    page.get_by_role("link", name="Back to your account").click()
    assert value not in page.content()
    assert page.locator("table.token-table tbody tr").count() == 1
    shot(page, "08-account-tokens")
    log_out(page, live_url)

    # The agent logs in, sees the dashboard, is refused the Staff page, logs out.
    log_in(page, live_url, AGENT, AGENT_PASSWORD)
    assert page.locator(".site-nav a").all_inner_texts() == [
        "Dashboard",
        "Requests",
        "Consent",
        "Opt-outs to partners",
        "Account",
    ]
    shot(page, "09-dashboard-agent")
    refused = page.goto(f"{live_url}/admin/staff")
    assert refused is not None
    assert refused.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    shot(page, "10-staff-refused")
    page.goto(f"{live_url}/admin")
    log_out(page, live_url)

    [denied] = events(db, "access.denied")
    assert (denied.actor, denied.target) == (f"staff:{agent.id}", "GET /admin/staff")
    # Nothing the CSP refuses (the 403 above is logged as an error by the browser).
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()
