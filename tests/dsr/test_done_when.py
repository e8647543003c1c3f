"""The issue's Done-when, in Debian's chromium: a consumer submits an access request on the page,
reads the code from the outbox, verifies, and sees the status; a privacy officer approves it in
the admin console; the consumer receives the completion mail.

Each step is saved as a screenshot under /tmp for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.cli import app as cli
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import DataRequest
from privacyops.settings import Settings
from tests.browser import OneAtATime
from tests.dsr.browser_flow import (
    outbox_messages,
    read_code,
    submit_access_request,
    text_of,
    verify,
)
from tests.staff.helpers import FakeLimiter

CONSUMER = "casey.consumer@example.com"
OFFICER = "olivia.officer@example.com"
OFFICER_PASSWORD = "the officer's long passphrase"
SHOTS = Path("/tmp/privacyops-done-when")

pytestmark = pytest.mark.usefixtures("use_test_database", "policy")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.add_middleware(OneAtATime)
    return app


def settled(db: Session) -> Session:
    """The test's session, once the server has finished its last request."""
    assert OneAtATime.idle.wait(10), "the server is still busy"
    db.expire_all()
    return db


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_consumer_request_verified_approved_and_completed(
    browser: Any, app: FastAPI, live_url: str, db: Session, settings: Settings
) -> None:
    app.state.login_limiter = FakeLimiter()
    created = CliRunner().invoke(
        cli,
        ["staff", "create", OFFICER, "--role", "privacy_officer"],
        input=f"{OFFICER_PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output

    # The consumer: the form, the code from the outbox, the status page.
    consumer = browser.new_context(viewport={"width": 1100, "height": 900})
    page = consumer.new_page()
    reference = submit_access_request(page, live_url, CONSUMER, state="CA")
    shot(page, "01-verify")
    verify(page, read_code(settings.outbox_dir, CONSUMER))
    assert page.locator("h1").inner_text() == "We are handling your request"
    assert reference in page.content()
    shot(page, "02-status")

    # The privacy officer, in another browser: log in, find the request, approve it.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    console = staff.new_page()
    console.goto(f"{live_url}/admin")
    console.get_by_label("Email").fill(OFFICER)
    console.get_by_label("Password").fill(OFFICER_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    assert console.url == f"{live_url}/admin"
    due = console.get_by_role("region", name="Requests by due date")
    assert "Requests due within 7 days" in due.inner_text()
    console.get_by_role("link", name="Requests", exact=True).first.click()
    assert console.url == f"{live_url}/admin/requests"
    row = console.locator("table.requests-table tbody tr", has_text=reference)
    assert "in_progress" in row.inner_text()
    assert CONSUMER not in console.content()  # the list shows no identities
    shot(console, "03-console-list")
    row.get_by_role("link", name=reference).click()
    assert console.locator("h1").inner_text() == f"Request {reference}"
    assert CONSUMER in console.locator("table.requests-identities").inner_text()
    shot(console, "04-console-request")
    console.get_by_role("button", name="Approve").click()
    assert console.url == f"{live_url}/admin/requests/{reference}?done=approved"
    assert "completion notice" in console.get_by_role("status").inner_text()
    shot(console, "05-console-approved")

    request = settled(db).get(DataRequest, reference)
    assert request is not None
    assert request.status == "completed"
    actions = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target == f"request:{reference}")
        .order_by(AuditEvent.seq)
    ).all()
    assert {"request.received", "request.verified", "request.viewed"} <= set(actions)
    # Approved, then the page after the redirect: another recorded view.
    assert actions[-2:] == ["request.completed", "request.viewed"]

    # The completion mail: the newest message in the outbox, to the consumer, with the link.
    newest = outbox_messages(settings.outbox_dir)[-1]
    assert newest["To"] == CONSUMER
    assert newest["Subject"] == f"Your privacy request {reference} is complete"
    link = re.search(rf"https?://\S+/requests/{reference}\?token=\S+", text_of(newest))
    assert link is not None, text_of(newest)

    # The link opens the status page, which now says the request is complete.
    target = urlsplit(link.group(0))
    page.goto(f"{live_url}{target.path}?{target.query}")
    assert page.locator("h1").inner_text() == "Complete"
    shot(page, "06-status-complete")
    consumer.close()
    staff.close()
