"""In Debian's chromium: the reports page renders its chart with nothing the CSP refuses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from privacyops.reports import pages
from privacyops.staff import service
from tests.reports.support import add_tally, add_year_2025
from tests.staff.helpers import make_staff


def test_privacy_officer_reads_the_metrics_and_downloads_the_csv(
    browser: Any,
    app: FastAPI,
    live_url: str,
    db: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "_today", lambda: date(2026, 6, 1))
    add_year_2025(db)
    for days in (12, 30, 44):
        add_tally(db, "access", date(2025, 4, 1), days=days)
    issued = service.start_session(db, make_staff(db, "privacy_officer"))
    db.commit()
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "privacyops_session", "value": issued.token, "url": live_url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_url}/admin")
    page.click(".site-nav >> text=Reports")
    page.select_option("#year", "2025")
    page.select_option("#scope", "all")
    page.click("text=Show")

    assert page.url == f"{live_url}/admin/reports/ccpa-7102?year=2025&scope=all"
    assert page.locator("#report-heading").inner_text() == "Calendar year 2025"
    chart = page.locator(".report-chart svg")
    assert chart.get_attribute("role") == "img"
    assert page.locator(".report-chart rect.chart-bar").count() == 15
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 600
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)

    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename == "ccpa-7102-2025-all.csv"
    saved = tmp_path / "metrics.csv"
    download.value.save_as(saved)
    assert saved.read_text().startswith("# CCPA 11 CCR 7102 metrics; calendar year 2025;")

    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()
