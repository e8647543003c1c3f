"""In Debian's chromium: log in, see the dashboard, be refused, log out."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.staff.helpers import PASSWORD, FakeLimiter, make_staff


def test_agent_logs_in_is_refused_staff_data_and_logs_out(
    browser: Any, app: FastAPI, live_url: str, db: Session
) -> None:
    app.state.login_limiter = FakeLimiter()
    make_staff(db, "agent")
    db.commit()
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_url}/admin")
    assert page.url == f"{live_url}/admin/login?next=/admin"
    page.fill("#email", "agent@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")

    assert page.url == f"{live_url}/admin"
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".site-nav a").all_inner_texts() == [
        "Dashboard",
        "Requests",
        "Consent",
        "Opt-outs to partners",
        "Account",
    ]
    refused = page.goto(f"{live_url}/api/v1/admin/staff")
    assert refused is not None
    assert refused.status == 403

    page.goto(f"{live_url}/admin")
    page.click("text=Log out")
    assert page.url.startswith(f"{live_url}/admin/login")
    page.goto(f"{live_url}/admin")
    assert page.url.startswith(f"{live_url}/admin/login?next=")
    # The page needs nothing the CSP refuses (the 403 above and a missing favicon are logged).
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.close()
