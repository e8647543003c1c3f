"""The browser harness itself: chromium loads a page served by the app under test."""

from __future__ import annotations

from typing import Any


def test_chromium_reads_health_from_live_server(browser: Any, live_url: str) -> None:
    page = browser.new_page()
    response = page.goto(f"{live_url}/healthz")
    assert response is not None
    assert response.status == 200
    assert '"database":"ok"' in page.content()
    page.close()
