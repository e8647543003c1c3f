"""In Debian's chromium: an auditor filters the audit log, pages through it and checks the chain."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from tests.staff.helpers import PASSWORD, FakeLimiter, make_staff


def test_auditor_filters_pages_and_verifies(
    browser: Any, app: FastAPI, live_url: str, db: Session
) -> None:
    app.state.login_limiter = FakeLimiter()
    make_staff(db, "auditor")
    for n in range(60):
        record(db, AuditAction.staff_listed, actor="staff:77", details={"n": n})
    record(db, AuditAction.policy_published, actor="cli", target="policy:1")
    db.commit()
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_url}/admin/login?next=/admin/audit")
    page.fill("#email", "auditor@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{live_url}/admin/audit"
    assert page.locator("h1").inner_text() == "Audit log"

    page.select_option("#action", "staff.*")
    page.fill("#actor", "staff:77")
    page.click("form.audit-filters button[type=submit]")
    assert "action=staff.*" in page.url.replace("%2A", "*")
    assert page.locator(".audit-count").inner_text() == "Events 1–50 of 60."
    assert page.locator("tbody tr").count() == 50
    page.click("a[rel=next]")
    assert page.locator("tbody tr").count() == 10
    assert page.locator("#action").input_value() == "staff.*"

    page.click("text=Verify chain")
    assert page.locator("h1").inner_text() == "Audit chain check"
    assert page.locator(".audit-intact").inner_text().startswith("Intact.")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.close()
