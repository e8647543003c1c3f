"""The cookie banner: its texts from the policy in force, CORS for the retailer's sites, the
script itself, and the issue's Done-when in chromium on the demo page: accepting and rejecting
gate the marked tags; with GPC on, advertising tags never run, the opt-out is recorded and said;
`__gpp('ping')` answers with a GPP string our Python decoder reads back; keyboard only works.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.consent import banner, ledger
from privacyops.consent.gpp import decode
from privacyops.consent.ledger import Evidence, Method, Who
from privacyops.consent.purposes import GPC_PURPOSES, SALE, TARGETED, cookie_purpose
from privacyops.models.consent import ConsentDecision, ConsentRecord
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.browser import OneAtATime

SHOP = "https://shop.example.com"
ELSEWHERE = "https://tracker.example.net"
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
HONOURED = "Your Global Privacy Control signal was honoured"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"consent_origins": [SHOP + "/"]})


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.add_middleware(OneAtATime)
    return app


def settled(db: Session) -> Session:
    assert OneAtATime.idle.wait(10), "the server is still busy"
    db.expire_all()
    return db


# -- the API -----------------------------------------------------------------------------------


def test_banner_config_gives_the_cookie_classes_of_the_policy_in_force(
    client: TestClient, policy: PolicyVersion
) -> None:
    answer = client.get("/api/v1/consent/banner-config")

    assert answer.status_code == 200, answer.text
    config = answer.json()
    cookies = policy.manifest["cookies"]
    assert config["policy_version"] == policy.number
    assert config["statement"] == cookies["statement"]
    assert [c["class"] for c in config["classes"]] == [c["class"] for c in cookies["classes"]]
    assert [c["description"] for c in config["classes"]] == [
        c["description"] for c in cookies["classes"]
    ]
    essential, _functional, analytics, advertising = config["classes"]
    assert (essential["label"], essential["optional"]) == ("Essential cookies", False)
    assert analytics["optional"] is True
    ga = next(c for c in analytics["cookies"] if c["name"] == "_ga")
    assert (ga["provider"], ga["lifetime"], ga["lifetime_text"]) == (
        "Google Analytics",
        "P13M",
        "13 months",
    )
    assert any(not c["first_party"] for c in advertising["cookies"])
    assert config["privacy_choices"]["text"] == "Your Privacy Choices"
    assert config["privacy_choices"]["url"].endswith("/preferences")
    assert set(config["purpose_names"]) == set(GPC_PURPOSES)
    assert "opts this browser out of targeted advertising" in config["texts"]["advertising_opt_out"]
    # The policy keeps privacyops_consent for 12 months.
    assert 360 * 86400 < config["cookie_max_age"] < 367 * 86400
    # usnat and the sections of the policy's states; Nevada has no GPP section.
    assert config["gpp"]["cmp_id"] == 1
    assert config["gpp"]["supported_apis"][0] == "7:usnat"
    assert {"8:usca", "9:usva", "10:usco", "16:ustx"} <= set(config["gpp"]["supported_apis"])
    assert answer.headers["cache-control"].startswith("public")
    again = client.get(
        "/api/v1/consent/banner-config", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_banner_config_follows_the_policy_texts(policy: PolicyVersion, settings: Settings) -> None:
    from privacyops.dsr.service import manifest_of

    manifest = manifest_of(policy)
    cookies = manifest.cookies.model_copy(update={"statement": "We use a few cookies."})
    changed = manifest.model_copy(update={"cookies": cookies})

    config = banner.banner_config_for(7, changed, settings)

    assert (config.policy_version, config.statement) == (7, "We use a few cookies.")


def test_banner_config_without_a_policy_is_a_clear_error(client: TestClient) -> None:
    answer = client.get("/api/v1/consent/banner-config")

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_cors_answers_the_listed_origins_only(client: TestClient, policy: PolicyVersion) -> None:
    def preflight(origin: str, path: str = "/api/v1/consent/browser") -> Any:
        return client.options(
            path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )

    allowed, refused = preflight(SHOP), preflight(ELSEWHERE)
    body = {"browser_id": "b" * 24, "choices": {"analytics": True}}
    posted = client.post("/api/v1/consent/browser", json=body, headers={"Origin": SHOP})
    foreign = client.post("/api/v1/consent/browser", json=body, headers={"Origin": ELSEWHERE})

    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in allowed.headers
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert "PRIVACYOPS_CONSENT_ORIGINS" in refused.json()["detail"]
    assert posted.status_code == 200
    assert posted.headers["access-control-allow-origin"] == SHOP
    assert posted.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in posted.headers
    # The server still records (it cannot tell), but the other site's script cannot read it.
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers
    for path in (
        f"/api/v1/consent/browser/{'b' * 24}",
        f"/api/v1/consent/gpp?browser_id={'b' * 24}",
        "/api/v1/consent/banner-config",
        "/consent/banner.js",
    ):
        answer = client.get(path, headers={"Origin": SHOP})
        assert answer.headers.get("access-control-allow-origin") == SHOP, path
        assert preflight(SHOP, path.split("?")[0]).status_code == 204, path
    # Other consent routes are not for the banner: no CORS there.
    unsubscribe = client.get("/.well-known/gpc.json", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in unsubscribe.headers


@pytest.mark.parametrize(
    ("method", "headers", "field"),
    [
        ("DELETE", "content-type", "access-control-request-method"),
        ("POST", "content-type, authorization", "access-control-request-headers"),
    ],
)
def test_a_preflight_for_another_method_or_header_is_refused(
    client: TestClient, method: str, headers: str, field: str
) -> None:
    answer = client.options(
        "/api/v1/consent/browser",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )

    assert answer.status_code == 403
    assert answer.json()["errors"][0]["field"] == field
    assert "access-control-allow-origin" not in answer.headers


def test_the_script_is_served_cacheable_per_policy_version(
    client: TestClient, policy: PolicyVersion
) -> None:
    answer = client.get("/consent/banner.js")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert b"__gpp" in answer.content  # IAB's CmpApi is bundled in
    assert answer.headers["etag"].endswith(f'-p{policy.number}"')
    assert answer.headers["cache-control"] == "public, max-age=3600"
    again = client.get("/consent/banner.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_an_unbuilt_script_says_how_to_build_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(banner, "BANNER_FILE", tmp_path / "banner.js")

    answer = client.get("/consent/banner.js")

    assert answer.status_code == 503
    assert "make js" in answer.json()["detail"]


def test_the_demo_page_has_no_inline_script(client: TestClient) -> None:
    answer = client.get("/consent/demo")

    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    assert page.count("<script") == 3
    assert page.count("<script src=") + page.count('<script type="text/plain"') == 3
    assert '<script type="text/plain" data-consent="analytics"' in page
    assert '<script type="text/plain" data-consent="advertising"' in page


# -- refusing advertising cookies: an opt-out of sale, sharing and targeted advertising ---------

VISITOR = "visitor-" + "v" * 16
OPT_OUT_FIELDS = ("SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut")


def choose(
    client: TestClient, choices: dict[str, bool], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = {"browser_id": VISITOR, "choices": choices, "wording": "the banner's words"}
    answer = client.post("/api/v1/consent/browser", json=body, headers=headers or {})
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


def browser_state(client: TestClient) -> dict[str, Any]:
    answer = client.get(f"/api/v1/consent/browser/{VISITOR}")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


def usnat_opt_outs(client: TestClient) -> tuple[Any, ...]:
    """The usnat opt-outs (1 opted out, 2 did not) and Gpc of the browser's GPP string."""
    answer = client.get("/api/v1/consent/gpp", params={"browser_id": VISITOR})
    assert answer.status_code == 200, answer.text
    fields = decode(answer.json()["gpp"]).sections["usnat"].fields
    return (*(fields[name] for name in OPT_OUT_FIELDS), fields["Gpc"])


def test_refusing_advertising_cookies_opts_the_browser_out_of_sale_and_sharing(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    answer = choose(client, {"analytics": True, "advertising": False})

    assert answer["purposes"][TARGETED] is answer["purposes"][SALE] is False
    assert answer["gpc_honoured"] is False
    state = browser_state(client)
    assert state["purposes"] == {TARGETED: False, SALE: False, cookie_purpose("advertising"): False}
    assert state["choices"]["analytics"] is True
    assert usnat_opt_outs(client) == (1, 1, 1, False)
    derived = [r for r in records(db, VISITOR) if r.purpose in (TARGETED, SALE)]
    assert [(r.purpose, r.allowed, r.method) for r in derived] == [
        (TARGETED, False, "banner"),
        (SALE, False, "banner"),
    ]
    # The same evidence as the cookie choice: the words shown, under the policy in force.
    assert all(r.wording == "the banner's words" for r in derived)
    assert all(r.policy_version == policy.number for r in derived)

    # Refusing again changes nothing; allowing again undoes the banner's own opt-out.
    choose(client, {"advertising": False})
    assert [r.purpose for r in records(db, VISITOR) if r.purpose in (TARGETED, SALE)] == [
        TARGETED,
        SALE,
    ]
    allowed = choose(client, {"advertising": True})
    assert allowed["purposes"] == {
        TARGETED: True,
        SALE: True,
        cookie_purpose("advertising"): True,
    }
    assert usnat_opt_outs(client) == (2, 2, 2, False)


def test_allowing_advertising_cookies_keeps_an_opt_out_made_with_gpc(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    choose(client, {"advertising": False}, headers={"Sec-GPC": "1"})
    gpc_ids = {r.purpose: r.id for r in records(db, VISITOR) if r.method == "gpc"}
    assert set(gpc_ids) == {TARGETED, SALE}  # the cookie's own "no" came first, from the banner

    # While the signal is on, an advertising "yes" re-allows nothing.
    on = choose(client, {"advertising": True}, headers={"Sec-GPC": "1"})
    assert on["purposes"][TARGETED] is on["purposes"][SALE] is False
    # The signal is off: the cookies are allowed, sale and sharing stay the signal's "no".
    off = choose(client, {"advertising": True})

    assert off["choices"]["advertising"] is True
    assert off["purposes"][TARGETED] is off["purposes"][SALE] is False
    found = decisions(db, VISITOR)
    assert (found[TARGETED], found[SALE]) == (False, False)
    current = settled(db).scalars(
        select(ConsentDecision).where(
            ConsentDecision.browser_id == VISITOR, ConsentDecision.purpose.in_(gpc_ids)
        )
    )
    assert {d.purpose: d.record_id for d in current} == gpc_ids
    assert usnat_opt_outs(client) == (1, 1, 1, True)


def test_a_known_person_opt_out_is_never_lifted_by_a_banner(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    person = ledger.person_or_new(db, vault, "email", "ann.banner@example.com", "email")
    ledger.record(db, person, TARGETED, False, Method.preference_page, actor="consumer")
    both = Who(subject_id=person.subject_id, browser_id=VISITOR)
    browser, proof = Who(browser_id=VISITOR), Evidence("the banner's words")

    refused = banner.follow_advertising_choice(
        db, both, False, gpc=False, policy_version=policy.number, evidence=proof
    )

    # Sale: one record for the person and the browser; targeted advertising: the person had
    # already said no on the preferences page, which stays theirs.
    assert [(r.purpose, r.subject_id, r.browser_id) for r in refused] == [
        (TARGETED, None, VISITOR),
        (SALE, person.subject_id, VISITOR),
    ]
    assert ledger.decide(db, person, TARGETED).method == "preference_page"

    allowed = banner.follow_advertising_choice(
        db, both, True, gpc=False, policy_version=policy.number, evidence=proof
    )

    # The browser is allowed again; the person is not (a shared browser cannot opt them in).
    assert [(r.purpose, r.subject_id, r.allowed) for r in allowed] == [
        (TARGETED, None, True),
        (SALE, None, True),
    ]
    assert ledger.decide(db, browser, TARGETED).allowed is True
    assert ledger.decide(db, person, TARGETED).allowed is False
    assert ledger.decide(db, person, SALE).allowed is False
    assert ledger.decide(db, both, SALE).allowed is False  # the person's decision comes first
    # A choice that leaves advertising cookies out says nothing about them.
    none = banner.follow_advertising_choice(
        db, both, None, gpc=False, policy_version=None, evidence=proof
    )
    assert none == []


# -- in chromium: the Done-when ---------------------------------------------------------------


def open_demo(context: Any, live_url: str) -> Any:
    page = context.new_page()
    page.goto(f"{live_url}/consent/demo")
    return page


def dialog_of(page: Any) -> Any:
    return page.get_by_role("dialog", name="Your cookie choices")


def demo_with_banner(context: Any, live_url: str) -> tuple[Any, Any]:
    """The demo page, first visit: the page and its banner, open."""
    page = open_demo(context, live_url)
    dialog = dialog_of(page)
    dialog.wait_for()
    return page, dialog


def press(dialog: Any, name: str) -> None:
    """Press a button of the banner that closes it (a choice, once saved; Close)."""
    dialog.get_by_role("button", name=name).click()
    dialog.wait_for(state="hidden")


def reopen(page: Any) -> None:
    """Open the banner again from the page's "Your Privacy Choices" link."""
    page.get_by_role("link", name="Your Privacy Choices").click()
    dialog_of(page).wait_for()


def ran(page: Any, cls: str) -> int:
    count: int = page.evaluate(f"() => window.{cls}Ran || 0")
    return count


def browser_id(page: Any) -> str:
    value: str = page.evaluate(
        "() => document.cookie.split('; ').find(c => c.startsWith('privacyops_consent='))"
        ".split('=')[1].split('.')[0]"
    )
    return value


def decisions(db: Session, browser: str) -> dict[str, bool]:
    rows = settled(db).scalars(select(ConsentDecision).where(ConsentDecision.browser_id == browser))
    return {row.purpose: row.allowed for row in rows}


def records(db: Session, browser: str) -> list[ConsentRecord]:
    query = select(ConsentRecord).where(ConsentRecord.browser_id == browser)
    return list(settled(db).scalars(query.order_by(ConsentRecord.id)))


def gpp_ready(page: Any) -> dict[str, Any]:
    """`__gpp('ping')` once the CMP has the server's string (signalStatus "ready")."""
    page.wait_for_function(
        "() => { let s; window.__gpp('ping', d => { s = d.signalStatus; }); return s === 'ready'; }"
    )
    ping: dict[str, Any] = page.evaluate(
        "() => new Promise(resolve => window.__gpp('ping', (data, ok) => resolve({...data, ok})))"
    )
    return ping


def test_rejecting_and_accepting_gate_the_marked_tags(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context()
    page, dialog = demo_with_banner(context, live_url)
    essential = dialog.get_by_role("checkbox", name="Essential cookies")
    assert essential.is_checked()
    assert essential.is_disabled()
    assert policy.manifest["cookies"]["classes"][2]["description"] in dialog.inner_text()
    assert ran(page, "analytics") == ran(page, "advertising") == 0

    press(dialog, "Reject all")

    assert ran(page, "analytics") == ran(page, "advertising") == 0
    browser_key = browser_id(page)
    assert decisions(db, browser_key)[cookie_purpose("analytics")] is False
    banner_records = [r for r in records(db, browser_key) if r.method == "banner"]
    # Refusing advertising cookies also opted the browser out of sale and sharing.
    assert {r.purpose for r in banner_records} == {
        *(cookie_purpose(c) for c in ("functional", "analytics", "advertising")),
        TARGETED,
        SALE,
    }
    assert all(r.policy_version == policy.number for r in banner_records)
    assert banner_records[0].wording is not None
    assert policy.manifest["cookies"]["statement"][:40] in banner_records[0].wording

    # The next page remembers the choice: no banner, still nothing optional.
    page.reload()
    gpp_ready(page)
    assert not dialog.is_visible()
    assert ran(page, "analytics") == ran(page, "advertising") == 0

    # "Your Privacy Choices" opens it again; accepting runs both tags, once each.
    reopen(page)
    press(dialog, "Accept all")
    assert ran(page, "analytics") == ran(page, "advertising") == 1
    assert page.locator("#demo-analytics-status").inner_text() == "ran"
    assert decisions(db, browser_key)[cookie_purpose("advertising")] is True

    page.reload()
    gpp_ready(page)
    page.wait_for_function("() => window.analyticsRan === 1 && window.advertisingRan === 1")
    context.close()


def test_refusing_advertising_in_the_banner_is_said_recorded_and_in_the_gpp_string(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context()
    page, dialog = demo_with_banner(context, live_url)
    # Said next to the choice, and read out with the box.
    advertising = dialog.get_by_role("checkbox", name="Advertising cookies")
    expect(advertising).to_have_accessible_description(
        re.compile("also opts this browser out of targeted advertising and of the sale and sharing")
    )

    press(dialog, "Reject all")

    browser_key = browser_id(page)
    state = context.request.get(f"{live_url}/api/v1/consent/browser/{browser_key}").json()
    assert state["purposes"][TARGETED] is state["purposes"][SALE] is False
    usnat = decode(gpp_ready(page)["gppString"]).sections["usnat"].fields
    assert [usnat[name] for name in OPT_OUT_FIELDS] == [1, 1, 1]
    assert usnat["Gpc"] is False
    targeted = next(r for r in records(db, browser_key) if r.purpose == TARGETED)
    assert (targeted.allowed, targeted.method) == (False, "banner")
    assert targeted.wording is not None
    assert banner.TEXTS["advertising_opt_out"] in targeted.wording

    # Accepting later undoes the banner's own opt-out (no other was made).
    reopen(page)
    press(dialog, "Accept all")
    usnat = decode(gpp_ready(page)["gppString"]).sections["usnat"].fields
    assert [usnat[name] for name in OPT_OUT_FIELDS] == [2, 2, 2]
    assert decisions(db, browser_key)[TARGETED] is True
    context.close()


def test_with_gpc_advertising_never_runs_and_the_opt_out_is_recorded_and_said(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(GPC_ON)
    page, dialog = demo_with_banner(context, live_url)
    assert HONOURED in dialog.get_by_role("status").inner_text()
    advertising = dialog.get_by_role("checkbox", name="Advertising cookies")
    assert advertising.is_disabled()
    assert not advertising.is_checked()

    press(dialog, "Accept all")

    assert ran(page, "analytics") == 1
    assert ran(page, "advertising") == 0
    # The page still says so once the banner is closed.
    assert HONOURED in page.get_by_role("status").filter(has_text=HONOURED).inner_text()
    browser_key = browser_id(page)
    gpc = [r for r in records(db, browser_key) if r.method == "gpc"]
    assert {r.purpose for r in gpc} == set(GPC_PURPOSES)
    assert not any(r.allowed for r in gpc)
    found = decisions(db, browser_key)
    assert found[SALE] is found[TARGETED] is found[cookie_purpose("advertising")] is False
    assert found[cookie_purpose("analytics")] is True

    ping = gpp_ready(page)
    assert (ping["ok"], ping["gppVersion"], ping["cmpId"], ping["cmpStatus"]) == (
        True,
        "1.1",
        1,
        "loaded",
    )
    usnat = decode(ping["gppString"]).sections["usnat"].fields
    assert usnat["SaleOptOut"] == 1
    assert usnat["TargetedAdvertisingOptOut"] == 1
    assert usnat["Gpc"] is True
    assert ping["sectionList"] == [7]
    assert "7:usnat" in ping["supportedAPIs"]

    # The other commands of the CMP API, through IAB's own implementation.
    answers = page.evaluate(
        """() => {
          const out = {};
          __gpp('hasSection', (v, ok) => { out.has = [v, ok]; }, 'usnat');
          __gpp('hasSection', (v, ok) => { out.hasNot = [v, ok]; }, 'tcfeuv2');
          __gpp('getField', (v, ok) => { out.field = [v, ok]; }, 'usnat.TargetedAdvertisingOptOut');
          __gpp('getSection', (v, ok) => { out.section = [v !== null, ok]; }, 'usnat');
          __gpp('addEventListener', (e, ok) => { out.added = out.added || e; });
          __gpp('removeEventListener', (e, ok) => {
            out.removed = [e.eventName, e.data, ok];
          }, out.added.listenerId);
          return out;
        }"""
    )
    assert answers["has"] == [True, True]
    assert answers["hasNot"][0] is False
    assert answers["field"] == [1, True]
    assert answers["section"] == [True, True]
    assert answers["added"]["eventName"] == "listenerRegistered"
    assert answers["removed"] == ["listenerRemoved", True, True]
    context.close()


def test_the_banner_records_gpc_the_browser_reports_without_a_header(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context()
    context.add_init_script(GPC_ON)
    page = context.new_page()
    page.goto(f"{live_url}/consent/demo?state=CA")  # the page passes the visitor's state
    dialog_of(page).wait_for()

    ping = gpp_ready(page)

    assert HONOURED in dialog_of(page).inner_text()
    assert {r.purpose for r in records(db, browser_id(page)) if r.method == "gpc"} == set(
        GPC_PURPOSES
    )
    assert ping["sectionList"] == [7, 8]
    sections = decode(ping["gppString"]).sections
    assert sections["usnat"].fields["Gpc"] is True
    assert sections["usca"].fields["SaleOptOut"] == 1
    assert sections["usca"].fields["Gpc"] is True
    context.close()


def test_gpc_after_an_explicit_yes_is_recorded_as_a_conflict_and_shown(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context()
    page = open_demo(context, live_url)
    dialog = dialog_of(page)
    press(dialog, "Accept all")
    assert ran(page, "advertising") == 1

    # Later the visitor turns GPC on: the signal wins, the earlier yes is named, not dropped.
    context.set_extra_http_headers({"Sec-GPC": "1"})
    context.add_init_script(GPC_ON)
    page.reload()
    dialog.wait_for()

    assert "You allowed Advertising cookies before" in dialog.inner_text()
    assert ran(page, "advertising") == 0
    assert ran(page, "analytics") == 1
    history = records(db, browser_id(page))
    yes = next(r for r in history if r.purpose == cookie_purpose("advertising") and r.allowed)
    overriding = next(
        r for r in history if r.purpose == cookie_purpose("advertising") and r.method == "gpc"
    )
    assert overriding.overrides_record == yes.id
    context.close()


def focused(page: Any) -> str:
    """The focused element, through the banner's shadow root: its name or its text."""
    text: str = page.evaluate(
        """() => {
          let at = document.activeElement;
          while (at && at.shadowRoot && at.shadowRoot.activeElement) {
            at = at.shadowRoot.activeElement;
          }
          if (!at) return '';
          return at.getAttribute('role') === 'dialog' ? 'dialog'
            : (at.getAttribute('name') || at.textContent || '').trim();
        }"""
    )
    return text


def tab_to(page: Any, name: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_banner_works_with_the_keyboard_alone(
    browser: Any, live_url: str, db: Session, policy: PolicyVersion
) -> None:
    context = browser.new_context()
    page, dialog = demo_with_banner(context, live_url)
    buttons = [
        dialog.get_by_role("button", name=n) for n in ("Accept all", "Reject all", "Save choices")
    ]
    looks = [
        b.evaluate(
            "b => ['fontSize', 'fontWeight', 'color', 'backgroundColor', 'borderTopWidth', "
            "'minHeight', 'paddingTop'].map(p => getComputedStyle(b)[p]).join('|')"
        )
        for b in buttons
    ]
    assert len(set(looks)) == 1, looks  # equally prominent: no choice looks preferred

    # The banner comes first in the tab order; Space ticks a box, Enter presses a button.
    tab_to(page, "analytics")
    page.keyboard.press("Space")
    tab_to(page, "Save choices")
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle"
    )
    assert outline == "solid"  # focus is visible
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    assert ran(page, "analytics") == 1
    assert ran(page, "advertising") == 0

    # The page's "Your Privacy Choices" link opens it, focus moves in, Escape closes it and
    # gives focus back to the link.
    link = page.get_by_role("link", name="Your Privacy Choices")
    link.focus()
    page.keyboard.press("Enter")
    dialog.wait_for()
    assert focused(page) == "dialog"
    assert dialog.get_by_role("checkbox", name="Analytics cookies").is_checked()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert focused(page) == "Your Privacy Choices"
    assert decisions(db, browser_id(page))[cookie_purpose("analytics")] is True
    context.close()
