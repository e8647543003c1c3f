"""An automated accessibility audit (axe-core; WCAG 2.0 A and AA, WCAG 2.1 AA) of the pages a
person meets when making a privacy choice: the cookie banner on a page that embeds it (open on
arrival, reopened, closed, with Global Privacy Control and a conflict, without a site link,
after a failed save), the preferences pages (asking for a link, an error, the answer, the page
itself with a conflict and a history) and the one-click unsubscribe page and its result. At a
phone's width, two things axe does not check: no page scrolls sideways (reflow, WCAG 2.1 SC
1.4.10), and the keyboard scrolls the banner (2.1.1).

axe-core is pinned in js/package.json and installed by `make js`; it is injected into each page
(the context bypasses the pages' Content-Security-Policy for that, and for nothing the pages do
themselves). The window is tall enough for the banner not to scroll: axe cannot tell the
contrast of text scrolled out of view, and contrast it could not check fails the test too.
Findings are listed rule by rule with the elements they concern.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from privacyops.consent import ledger
from privacyops.consent.api import unsubscribe_links
from privacyops.consent.ledger import Method
from privacyops.consent.pages import PreferenceLinks
from privacyops.consent.purposes import SMS, TARGETED
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.conftest import REPO_ROOT

# The banner tests' fixtures (the live server one request at a time, the example policy in
# force) and their steps in the banner.
from tests.consent.test_banner import (  # noqa: F401
    GPC_ON,
    app,
    demo_with_banner,
    dialog_of,
    open_demo,
    press,
    reopen,
)

# Every page here needs the example policy in force.
pytestmark = pytest.mark.usefixtures("policy")

AXE = REPO_ROOT / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
TALL = {"width": 1280, "height": 2400}
PHONE = {"width": 320, "height": 640}  # 1.4.10: 320 CSS pixels wide
ANN = "ann.audit@example.com"
# A retailer's page with the banner and no "Your Privacy Choices" link of its own: the banner
# adds its floating one.
SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title>
</head><body><main><h1>A shop</h1><p>Things for sale.</p></main>
<script src="/consent/banner.js"></script></body></html>"""

# What axe found, reduced to what a person fixing it needs: rule, impact, help, and per
# element its selector (through shadow roots) and what is wrong. Contrast that axe could not
# check ("incomplete") counts: the audit must not pass by not looking.
_RUN = """async tags => {
  const r = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations', 'incomplete'],
  });
  const unchecked = r.incomplete.filter(v => v.id === 'color-contrast');
  return [...r.violations, ...unchecked].map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: JSON.stringify(n.target), summary: n.failureSummary})),
  }));
}"""


def readable(where: str, found: list[dict[str, Any]]) -> str:
    lines = [f"{len(found)} accessibility problem(s) on {where}:"]
    for problem in found:
        lines.append(
            f"- {problem['id']} ({problem['impact']}): {problem['help']} <{problem['url']}>"
        )
        for node in problem["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str) -> None:
    assert AXE.is_file(), f"{AXE} is missing: run `make js` (npm ci in js/) to install axe-core"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_RUN, WCAG_TAGS)
    assert not found, readable(where, found)


def audited(browser: Any, **options: Any) -> Any:
    """A context whose pages axe can be injected into, in a window the banner fits in."""
    return browser.new_context(bypass_csp=True, viewport=TALL, **options)


# -- the cookie banner ---------------------------------------------------------------------------


def test_the_banner_open_reopened_and_closed_has_no_violations(browser: Any, live_url: str) -> None:
    context = audited(browser)
    page, dialog = demo_with_banner(context, live_url)
    for summary in dialog.locator("summary").all():
        summary.click()  # the cookie lists open, so that they are audited too

    assert_accessible(page, "the demo page with the banner open on arrival")

    press(dialog, "Save choices")
    assert_accessible(page, "the demo page after a choice (banner closed)")

    reopen(page)
    assert_accessible(page, "the banner reopened from Your Privacy Choices")
    context.close()


def test_the_banner_with_gpc_and_a_conflict_has_no_violations(browser: Any, live_url: str) -> None:
    context = audited(browser)
    page = open_demo(context, live_url)
    dialog = dialog_of(page)
    press(dialog, "Accept all")
    context.set_extra_http_headers({"Sec-GPC": "1"})
    context.add_init_script(GPC_ON)
    page.reload()
    dialog.wait_for()
    assert "You allowed" in dialog.inner_text()

    assert_accessible(page, "the banner with GPC honoured and a conflict shown")

    press(dialog, "Close")
    assert_accessible(page, "the demo page with the GPC status shown and the banner closed")
    context.close()


def test_the_banner_floating_link_and_save_failure_have_no_violations(
    browser: Any, live_url: str
) -> None:
    context = audited(browser)
    context.add_init_script(GPC_ON)
    context.route(
        f"{live_url}/shop", lambda route: route.fulfill(body=SHOP_PAGE, content_type="text/html")
    )
    page = context.new_page()
    page.goto(f"{live_url}/shop")
    dialog = dialog_of(page)
    dialog.wait_for()
    press(dialog, "Close")
    link = page.get_by_role("link", name="Your Privacy Choices")
    link.wait_for()

    assert_accessible(page, "a page without its own link: the banner's floating link and status")

    # The server cannot be reached: the banner says so, and stays open.
    page.route("**/api/v1/consent/browser", lambda route: route.abort())
    link.click()
    dialog.get_by_role("button", name="Save choices").click()
    dialog.get_by_role("alert").wait_for()
    assert_accessible(page, "the banner after a failed save")
    context.close()


# -- the preferences pages -----------------------------------------------------------------------


def test_the_preferences_link_form_its_error_and_its_answer_have_no_violations(
    browser: Any, live_url: str
) -> None:
    context = audited(browser)
    page = context.new_page()
    page.goto(f"{live_url}/preferences")
    assert_accessible(page, "/preferences")

    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("Enter your email address").first.wait_for()
    assert_accessible(page, "/preferences with an error")

    page.get_by_label("Email address").fill(ANN)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("Check your email").wait_for()
    assert_accessible(page, "/preferences?sent=1")
    context.close()


def preferences_path(db: Session, vault: Vault, settings: Settings) -> str:
    """Ann's page, with two earlier yeses: one the signal will override (a conflict shown),
    one it leaves alone (a history)."""
    who = ledger.person_or_new(db, vault, "email", ANN, "email")
    for key in (TARGETED, SMS):
        ledger.record(db, who, key, True, Method.preference_page, actor="consumer")
    db.commit()
    return f"/preferences/{PreferenceLinks.from_settings(settings).token(vault, ANN)}"


def test_the_preferences_page_has_no_violations(
    browser: Any, live_url: str, db: Session, vault: Vault, settings: Settings
) -> None:
    path = preferences_path(db, vault, settings)
    # The signal on: the page says it was honoured, holds the purposes off and shows the
    # conflict with the earlier yes.
    context = audited(browser, extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    page.goto(live_url + path)
    page.locator("#gpc-honoured").wait_for()
    assert page.locator(".gpc-conflict").count() == 1

    assert_accessible(page, "/preferences/{token} with GPC, a conflict and a history")

    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Your choices are saved").wait_for()
    assert_accessible(page, "/preferences/{token} after saving")
    context.close()


# -- one-click unsubscribe -----------------------------------------------------------------------


def test_the_unsubscribe_page_and_its_result_have_no_violations(
    browser: Any, live_url: str, vault: Vault, settings: Settings
) -> None:
    token = unsubscribe_links(settings).token(vault, ANN, "marketing")
    context = audited(browser)
    page = context.new_page()
    page.goto(f"{live_url}/u/{token}")
    assert_accessible(page, "/u/{token} (GET: the button)")

    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert_accessible(page, "/u/{token} after the one-click POST")
    context.close()


# -- reflow at a phone's width ---------------------------------------------------------------------


def test_no_page_scrolls_sideways_at_320_pixels(
    browser: Any, live_url: str, db: Session, vault: Vault, settings: Settings
) -> None:
    paths = {
        "the demo page with the banner open": "/consent/demo",
        "/preferences": "/preferences",
        "/preferences/{token}": preferences_path(db, vault, settings),
        "/u/{token}": f"/u/{unsubscribe_links(settings).token(vault, ANN, 'marketing')}",
    }
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    wide = {}
    for name, path in paths.items():
        page.goto(live_url + path)
        if "banner" in name:
            dialog_of(page).wait_for()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[name] = width
    context.close()

    assert wide == {}, f"pages wider than {PHONE['width']} CSS pixels (content width): {wide}"


def test_the_banner_scrolls_with_the_keyboard_on_a_small_screen(
    browser: Any, live_url: str
) -> None:
    context = browser.new_context(viewport=PHONE)
    page, dialog = demo_with_banner(context, live_url)
    scrolled = "() => document.querySelector('#privacyops-consent').shadowRoot.firstChild.scrollTop"
    assert page.evaluate(scrolled) == 0

    # The dialog is the first stop: focused, the arrow keys scroll it (2.1.1 Keyboard).
    page.keyboard.press("Tab")
    assert dialog.evaluate("d => d.getRootNode().activeElement === d")
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"() => ({scrolled})() > 0")
    context.close()
