"""The consumer half of the issue's Done-when, in Debian's chromium: make an access request on
the Privacy Center, read the code from the outbox, verify, and see the request being handled.

Screenshots of each page are saved under /tmp/privacyops-requests for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from privacyops.models.dsr import DataRequest
from privacyops.settings import Settings
from tests.dsr.browser_flow import read_code, submit_access_request, verify

EMAIL = "casey.consumer@example.com"
SHOTS = Path("/tmp/privacyops-requests")

pytestmark = pytest.mark.usefixtures("policy")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_consumer_makes_and_verifies_an_access_request(
    browser: Any, live_url: str, settings: Settings, db: Session
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    # Script errors only: a 422 page (the wrong code) and the favicon's 404 are expected.
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_url)
    shot(page, "00-home")
    page.get_by_role("link", name="Make a request").first.click()
    assert page.url == f"{live_url}/requests/new"
    shot(page, "01-state")

    request_id = submit_access_request(page, live_url, EMAIL)
    assert EMAIL not in page.url
    assert page.locator("h1").inner_text() == "Confirm your request"
    assert "c***@example.com" in page.locator("main").inner_text()
    assert EMAIL not in page.content()
    shot(page, "04-verify")

    # A wrong code first: the message sits next to the field.
    page.get_by_label("Verification code").fill(
        "000000" if read_code(settings.outbox_dir, EMAIL) != "000000" else "111111"
    )
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("#code-error").inner_text() == "Wrong code; 4 attempts left"
    shot(page, "05-verify-wrong")

    verify(page, read_code(settings.outbox_dir, EMAIL))
    assert page.url.startswith(f"{live_url}/requests/{request_id}?token=")
    assert page.locator("h1").inner_text() == "We are handling your request"
    main = page.locator("main").inner_text()
    assert request_id in main
    assert "Access to your information" in main
    assert "The request was confirmed." in main
    shot(page, "06-status")

    stored = db.get(DataRequest, request_id)
    assert stored is not None
    db.refresh(stored)
    assert stored.status == "in_progress"
    assert stored.channel == "web"
    assert problems == []


def test_the_form_steps_look_right(browser: Any, live_url: str) -> None:
    """The two intermediate steps, and the form's errors, for the screenshots."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{live_url}/requests/new?state=IA")
    assert (
        page.locator("#unavailable-correction dt").inner_text() == "Correction of your information"
    )
    shot(page, "02-types-iowa")
    page.goto(f"{live_url}/requests/new?state=CA&type=correction")
    page.get_by_label("Email address", exact=True).fill("not an address")
    page.get_by_role("button", name="Send the request").click()
    assert page.locator("#email-error").is_visible()
    assert page.locator("#corrections-error").is_visible()
    assert page.get_by_label("Email address", exact=True).input_value() == "not an address"
    shot(page, "03-details-errors")

    # Specific pieces: the verification page asks for more proof and a signed declaration.
    page.goto(f"{live_url}/requests/new?state=CA&type=access")
    page.get_by_label("Email address", exact=True).fill("dana@example.com")
    page.get_by_label("The specific pieces of information").check()
    page.get_by_role("button", name="Send the request").click()
    page.get_by_label("Verification code").fill("123456")
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("#declaration_signed-error").is_visible()
    assert page.locator("#extra_points-error").is_visible()
    shot(page, "07-verify-stronger")
