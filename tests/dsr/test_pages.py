"""The Privacy Center request pages: the three-step form, verification and the status page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.dsr import pages, service, workflow
from privacyops.dsr.status import DenialReason
from privacyops.dsr.tokens import StatusLinks
from privacyops.models.dsr import DataRequest, VerificationCode
from privacyops.models.types import utcnow
from privacyops.policy.states import US_STATES
from privacyops.rights.rules import decide, decide_all
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.dsr.browser_flow import codes, outbox_messages, read_code, text_of
from tests.dsr.support import counts
from tests.htmltree import Node, parse

EMAIL = "ann.page@example.com"
pytestmark = pytest.mark.usefixtures("policy")


def tree(response: Response) -> Node:
    return parse(response.text)


def form_page(client: TestClient, state: str = "CA", type: str = "access", **query: str) -> Node:
    response = client.get("/requests/new", params={"state": state, "type": type, **query})
    assert response.status_code == 200, response.text
    return tree(response)


def hidden(page: Node, name: str) -> str:
    value = page.find("input", name=name).attrs["value"]
    assert value is not None
    return value


def post_form(
    client: TestClient, state: str = "CA", type: str = "access", **fields: str
) -> Response:
    """Open step 3 (which sets the CSRF cookie), then send it with `fields`."""
    page = form_page(client, state, type)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "form_key": hidden(page, "form_key"),
        "state": state,
        "type": type,
        "email": EMAIL,
    }
    data.update(fields)
    response: Response = client.post("/requests/new", data=data, follow_redirects=False)
    return response


def submit(client: TestClient, **fields: str) -> tuple[str, str]:
    """A valid submission: (request id, the Location it answered)."""
    response = post_form(client, **fields)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.match(r"/requests/(R-[0-9A-Z]+)", location)
    assert match is not None, location
    return match.group(1), location


def verify_with(client: TestClient, location: str, **fields: str) -> Response:
    page = tree(client.get(location))
    action = page.find("form", method="post").attrs["action"]
    assert action is not None
    data = {"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token"), **fields}
    response: Response = client.post(action, data=data, follow_redirects=False)
    return response


def error_of(page: Node, field_id: str) -> str:
    return page.find("span", id=f"{field_id}-error").text()


def outbox_texts(settings: Settings) -> list[str]:
    return [text_of(m) for m in outbox_messages(settings.outbox_dir)]


def manifest(db: Session) -> Any:
    return service.manifest_of(service.policy_in_force(db, utcnow()))


# --- home and step 1 -----------------------------------------------------------------------------


def test_home_and_nav_link_to_the_form(client: TestClient) -> None:
    page = tree(client.get("/"))

    nav = [a.attrs["href"] for a in page.find("nav").find_all("a")]
    cards = [
        a.attrs["href"]
        for li in page.find_all("li", **{"class": "card card-action"})
        for a in li.find_all("a")
    ]
    assert "/requests/new" in nav
    assert cards == ["/requests/new"]


def test_step_one_asks_for_the_state(client: TestClient) -> None:
    response = client.get("/requests/new")

    assert response.status_code == 200
    page = tree(response)
    select_ = page.find("select", id="state")
    assert page.find("label", **{"for": "state"}).text() == "Where do you live?"
    options = [o.attrs["value"] for o in select_.find_all("option")]
    assert set(options) == {"", *US_STATES, pages.OTHER}
    assert page.find("form").attrs["method"] == "get"


def test_an_unknown_state_asks_again(client: TestClient) -> None:
    response = client.get("/requests/new", params={"state": "XX"})

    assert response.status_code == 422
    page = tree(response)
    assert page.find("p", id="state-error").text() == "Choose your state from the list."
    assert "state-error" in (page.find("select", id="state").attrs["aria-describedby"] or "")


def test_outside_the_us_gets_the_rights_and_how_to_ask(client: TestClient, db: Session) -> None:
    response = client.get("/requests/new", params={"state": "OTHER"})

    assert response.status_code == 200
    page = tree(response)
    contact = manifest(db).organization.email
    assert page.find("a", href=f"mailto:{contact}")
    assert "Access to your information" in page.text()


# --- step 2: the types a state's residents may use ----------------------------------------------


@pytest.mark.parametrize("state", ["CA", "IA", "VA", "TX", "UT", "NY"])
def test_step_two_shows_exactly_the_types_the_rules_allow(
    client: TestClient, db: Session, state: str
) -> None:
    decisions = decide_all(state, utcnow(), manifest(db))

    page = tree(client.get("/requests/new", params={"state": state}))

    shown = [i.attrs["value"] for i in page.find_all("input", type="radio", name="type")]
    refused = [d.attrs["id"] for d in page.find_all("div", **{"class": "item"})]
    assert shown == [d.request_type.value for d in decisions if d.allowed]
    assert refused == [f"unavailable-{d.request_type.value}" for d in decisions if not d.allowed]
    for decision in decisions:
        if decision.allowed:
            help_ = page.find("span", id=f"type-{decision.request_type.value}-help").text()
            assert decision.deadline is not None
            assert f"We answer within {decision.deadline.days} " in help_


def test_iowa_shows_correction_as_unavailable_with_its_reason(
    client: TestClient, db: Session
) -> None:
    reason = decide("correction", "IA", utcnow(), manifest(db)).reason  # type: ignore[arg-type]

    page = tree(client.get("/requests/new", params={"state": "IA"}))

    item = page.find("div", id="unavailable-correction")
    assert item.find("dt").text() == "Correction of your information"
    assert item.find("dd").text() == reason
    assert "Iowa residents have no right to correct" in reason
    assert page.find("h2", id="unavailable-title").text() == "Not available to Iowa residents"
    assert "We answer within 90 days" in page.find("span", id="type-access-help").text()


def test_a_refused_type_in_the_address_is_explained(client: TestClient) -> None:
    response = client.get("/requests/new", params={"state": "IA", "type": "correction"})

    assert response.status_code == 422
    assert (
        "Iowa residents have no right to correct"
        in tree(response).find("p", id="type-error").text()
    )


# --- step 3: the details -------------------------------------------------------------------------


def test_step_three_has_labelled_fields_with_autocomplete(client: TestClient) -> None:
    page = form_page(client, "CA", "access")

    email_input = page.find("input", id="email")
    assert email_input.attrs["autocomplete"] == "email"
    assert email_input.attrs["type"] == "email"
    assert "required" in email_input.attrs
    assert page.find("input", id="phone").attrs["autocomplete"] == "tel"
    for field in ("email", "phone", "loyalty_id", "details"):
        assert page.find("label", **{"for": field})
    scopes = [i.attrs["value"] for i in page.find_all("input", name="access_scope")]
    assert scopes == ["categories", "specific"]
    assert page.find("fieldset", id="agent")  # California allows agents for every request
    assert "We answer within 45 days" in page.find("p", **{"class": "request-summary"}).text()


def test_the_correction_form_has_rows_of_fields_and_values(client: TestClient) -> None:
    page = form_page(client, "CA", "correction")

    names = [i.attrs["name"] for i in page.find("fieldset", id="corrections").find_all("input")]
    assert names == [
        f"correction_{kind}_{i}"
        for i in range(pages.CORRECTION_ROWS)
        for kind in ("field", "value")
    ]


def test_no_agent_option_where_the_state_allows_none(client: TestClient, db: Session) -> None:
    states = [s for s in US_STATES if not decide("access", s, utcnow(), manifest(db)).agent_allowed]  # type: ignore[arg-type]
    assert states

    page = form_page(client, states[0], "access")

    assert not page.find_all("fieldset", id="agent")


# --- submitting ----------------------------------------------------------------------------------


def test_a_valid_request_redirects_to_verification_and_mails_the_code(
    client: TestClient, db: Session, settings: Settings
) -> None:
    request_id, location = submit(client, details="Please include my store purchases.")

    assert location.startswith(f"/requests/{request_id}/verify?token=")
    stored = db.get(DataRequest, request_id)
    assert stored is not None
    assert (stored.channel, stored.type, stored.state, stored.status) == (
        "web",
        "access",
        "CA",
        "awaiting_verification",
    )
    assert re.fullmatch(r"\d{6}", read_code(settings.outbox_dir, EMAIL))
    assert any(request_id in text for text in outbox_texts(settings))


def test_sending_the_same_form_twice_makes_one_request(client: TestClient, db: Session) -> None:
    page = form_page(client)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "form_key": hidden(page, "form_key"),
        "state": "CA",
        "type": "access",
        "email": EMAIL,
    }

    first = client.post("/requests/new", data=data, follow_redirects=False)
    before = counts(db)
    again = client.post("/requests/new", data=data, follow_redirects=False)

    assert first.status_code == again.status_code == 303
    assert urlsplit(first.headers["location"]).path == urlsplit(again.headers["location"]).path
    assert counts(db) == before


def test_the_same_form_sent_again_with_other_values_is_refused(
    client: TestClient, db: Session
) -> None:
    page = form_page(client)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "form_key": hidden(page, "form_key"),
        "state": "CA",
        "type": "access",
        "email": EMAIL,
    }
    assert client.post("/requests/new", data=data, follow_redirects=False).status_code == 303
    before = counts(db)

    again = client.post(
        "/requests/new", data={**data, "details": "changed"}, follow_redirects=False
    )

    assert again.status_code == 409
    assert "This form was already sent" in tree(again).find("div", role="alert").text()
    assert counts(db) == before


@pytest.mark.parametrize(
    ("type_", "fields", "field_id", "message"),
    [
        ("access", {"email": ""}, "email", "Give the email address"),
        ("access", {"email": "not-an-email"}, "email", "email"),
        ("access", {"phone": "call me"}, "phone", "phone"),
        ("access", {"details": "x" * 4001}, "details", "At most 4000 characters"),
        ("access", {"email": "a" * 400 + "@example.com"}, "email", "Too long"),
        ("correction", {}, "corrections", "Say which information to correct"),
        (
            "correction",
            {"correction_field_0": "Postal address"},
            "correction_value_0",
            "correct value",
        ),
        (
            "access",
            {"acting": "agent", "agent_email": "agent@example.com"},
            "agent_name",
            "agent's name",
        ),
        (
            "access",
            {"acting": "agent", "agent_name": "Al", "agent_proof": "signed"},
            "agent_email",
            "email",
        ),
        ("appeal", {"appeal_of": "nope"}, "appeal_of", "reference"),
    ],
)
def test_each_invalid_field_is_shown_with_its_message_and_nothing_is_stored(
    client: TestClient,
    db: Session,
    settings: Settings,
    type_: str,
    fields: dict[str, str],
    field_id: str,
    message: str,
) -> None:
    state = "VA" if type_ == "appeal" else "CA"
    before = counts(db)

    response = post_form(client, state, type_, **{"details": "keep me", **fields})

    assert response.status_code == 422, response.text
    page = tree(response)
    assert message.lower() in error_of(page, field_id).lower()
    tag = {"details": "textarea", "corrections": "fieldset"}.get(field_id, "input")
    target = page.find(tag, id=field_id)
    assert f"{field_id}-error" in (target.attrs.get("aria-describedby") or "")
    assert page.find("div", role="alert").find("a", href=f"#{field_id}")
    assert counts(db) == before
    assert outbox_texts(settings) == []
    if field_id != "details":
        assert page.find("textarea", id="details").text() == "keep me"
    if "email" in fields and field_id == "email":
        assert page.find("input", id="email").attrs["value"] == fields["email"]


def test_a_post_without_the_form_token_is_refused(client: TestClient, db: Session) -> None:
    before = counts(db)

    response = client.post(
        "/requests/new",
        data={"state": "CA", "type": "access", "email": EMAIL, "csrf_token": "forged"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "expired" in response.text
    assert counts(db) == before


def test_an_oversized_form_gets_an_html_413(client: TestClient, db: Session) -> None:
    before = counts(db)

    response = post_form(client, details="x" * 40_000)

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert counts(db) == before


# --- verification ---------------------------------------------------------------------------------


def test_the_verification_page_masks_the_address(client: TestClient) -> None:
    _, location = submit(client)

    page = tree(client.get(location))

    assert "a***@example.com" in page.text()
    assert EMAIL not in client.get(location).text
    code = page.find("input", id="code")
    assert code.attrs["inputmode"] == "numeric"
    assert code.attrs["autocomplete"] == "one-time-code"
    assert page.find("label", **{"for": "code"}).text() == "Verification code"
    assert page.find("button", type="submit").text() == "Confirm"


def test_the_verification_page_needs_its_token(client: TestClient) -> None:
    request_id, _ = submit(client)

    for url in (
        f"/requests/{request_id}/verify",
        f"/requests/{request_id}/verify?token=forged",
        f"/requests/{request_id}/verify?token={quote(StatusLinks('other', 'x').token(request_id))}",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "***" not in response.text
        assert request_id not in response.text


def test_the_right_code_opens_the_status_page(client: TestClient, settings: Settings) -> None:
    request_id, location = submit(client)

    response = verify_with(client, location, code=read_code(settings.outbox_dir, EMAIL))

    assert response.status_code == 303
    status_url = response.headers["location"]
    assert status_url.startswith(f"/requests/{request_id}?token=")
    page = tree(client.get(status_url))
    assert page.find("h1").text() == "We are handling your request"
    assert request_id in page.text()


def test_a_wrong_code_counts_and_says_how_many_attempts_are_left(
    client: TestClient, db: Session, settings: Settings
) -> None:
    request_id, location = submit(client)
    right = read_code(settings.outbox_dir, EMAIL)
    wrong = "000000" if right != "000000" else "111111"

    response = verify_with(client, location, code=wrong)

    assert response.status_code == 422
    page = tree(response)
    assert error_of(page, "code") == "Wrong code; 4 attempts left"
    assert page.find("input", id="code").attrs["aria-invalid"] == "true"
    code_row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request_id)
    ).one()
    assert code_row.attempts == 1
    assert verify_with(client, location, code="12ab").status_code == 422


def test_a_used_code_is_refused(client: TestClient, settings: Settings) -> None:
    _, location = submit(client)
    code = read_code(settings.outbox_dir, EMAIL)
    assert verify_with(client, location, code=code).status_code == 303

    page = tree(client.get(location))

    assert "already confirmed" in page.text()
    assert not page.find_all("input", id="code")


def test_resend_waits_a_minute_then_sends_a_new_code(
    client: TestClient, db: Session, settings: Settings
) -> None:
    request_id, location = submit(client)
    first = read_code(settings.outbox_dir, EMAIL)
    page = tree(client.get(location))
    resend = {"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token")}
    action = page.find("form", **{"class": "resend-form"}).attrs["action"]
    assert action is not None

    too_soon = client.post(action, data=resend, follow_redirects=False)
    row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request_id)
    ).one()
    row.last_sent_at -= timedelta(minutes=2)  # a while later
    db.commit()
    resent = client.post(action, data=resend, follow_redirects=False)

    assert too_soon.status_code == 429
    assert re.search(r"Wait \d+ seconds before asking for a new code", too_soon.text)
    assert resent.status_code == 303
    assert "sent=1" in resent.headers["location"]
    assert "We sent you a new code." in client.get(resent.headers["location"]).text
    both = codes(settings.outbox_dir, EMAIL)
    assert len(both) == 2
    (second,) = set(both) - {first} or {first}
    if second != first:
        assert verify_with(client, location, code=first).status_code == 422  # replaced
    final = verify_with(client, location, code=second)
    assert final.status_code == 303, tree(final).find("div", role="alert").text()


def test_the_stronger_standard_asks_for_data_points_and_a_declaration(
    client: TestClient, db: Session, settings: Settings
) -> None:
    request_id, location = submit(client, access_scope="specific")
    code = read_code(settings.outbox_dir, EMAIL)

    missing = verify_with(client, location, code=code)

    assert missing.status_code == 422
    page = tree(missing)
    assert "at least 2" in error_of(page, "extra_points")
    assert "declaration" in error_of(page, "declaration_signed")
    assert "name" in error_of(page, "signer_name")
    done = verify_with(
        client,
        location,
        code=code,
        point_order_number="A-1001",
        point_card_last4="4242",
        declaration_signed="yes",
        signer_name="Ann Page",
    )
    assert done.status_code == 303
    stored = db.get(DataRequest, request_id)
    assert stored is not None
    assert stored.verification == "high"
    assert stored.status == "awaiting_review"


# --- the status page ------------------------------------------------------------------------------


def status_url(settings: Settings, request_id: str) -> str:
    return pages.status_path(settings, request_id)


def test_the_status_page_needs_a_valid_token(client: TestClient, settings: Settings) -> None:
    request_id, _ = submit(client)
    unknown = client.get("/requests/R-ZZZZZZZZZZ?token=x")

    for url in (
        f"/requests/{request_id}",
        f"/requests/{request_id}?token=forged",
        f"/requests/{request_id}?token={quote(pages.continue_token(settings, request_id))}",
        "/requests/not-a-reference",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.text == unknown.text
        assert request_id not in response.text


def test_the_status_page_escapes_script_in_details(client: TestClient, settings: Settings) -> None:
    script = "<script>alert('x')</script> & more"
    request_id, _ = submit(client, details=script)

    response = client.get(status_url(settings, request_id))

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_an_opt_out_needs_no_verification(client: TestClient, settings: Settings) -> None:
    response = post_form(client, "CA", "opt_out_sale")

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.match(r"/requests/R-[0-9A-Z]+\?token=", location)
    page = tree(client.get(location))
    assert page.find("h1").text() == "We are handling your request"
    timeline = page.find("ol", **{"class": "timeline"}).text()
    assert "No confirmation was needed for this request." in timeline
    assert not [t for t in outbox_texts(settings) if "verification code" in t.lower()]


def test_a_denial_shows_its_reason_and_how_to_appeal(
    client: TestClient, db: Session, vault: Vault, settings: Settings
) -> None:
    request_id, _ = submit_in(client, settings, "VA")
    links = StatusLinks.from_settings(settings)
    workflow.deny(
        db,
        vault,
        links,
        request_id,
        DenialReason.exemption,
        "Va. Code 59.1-582 <b>",
        actor="staff:1",
        now=utcnow(),
    )
    db.commit()

    page = tree(client.get(status_url(settings, request_id)))

    assert page.find("h1").text() == "We could not act on your request"
    denial = page.find("div", **{"class": "denial callout"}).text()
    assert "The law exempts" in denial
    assert "Legal basis: Va. Code 59.1-582 <b>" in denial
    link = page.find("a", **{"class": "button"})
    query = parse_qs(urlsplit(link.attrs["href"] or "").query)
    assert query == {"state": ["VA"], "type": ["appeal"], "appeal_of": [request_id]}
    appeal_form = form_page(client, "VA", "appeal", appeal_of=request_id)
    assert appeal_form.find("input", id="appeal_of").attrs["value"] == request_id
    timeline = page.find("ol", **{"class": "timeline"}).text()
    assert "We decided that we cannot act on your request." in timeline
    assert "Va. Code" not in timeline  # staff text never reaches the timeline as a note


def test_a_completed_request_shows_the_result(
    client: TestClient, db: Session, vault: Vault, settings: Settings
) -> None:
    request_id, _ = submit_in(client, settings, "CA")
    links = StatusLinks.from_settings(settings)
    workflow.add_note(db, vault, request_id, "Koala staff note", actor="staff:1", now=utcnow())
    workflow.approve(db, vault, links, request_id, actor="staff:1", now=utcnow())
    db.commit()

    response = client.get(status_url(settings, request_id))

    page = tree(response)
    assert page.find("h1").text() == "Complete"
    assert "Your information is ready" in page.find("div", **{"class": "result callout"}).text()
    assert "Koala" not in response.text


def submit_in(client: TestClient, settings: Settings, state: str) -> tuple[str, str]:
    request_id, location = submit_state(client, state)
    verified = verify_with(client, location, code=read_code(settings.outbox_dir, EMAIL))
    assert verified.status_code == 303
    return request_id, location


def submit_state(client: TestClient, state: str) -> tuple[str, str]:
    response = post_form(client, state, "access")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.match(r"/requests/(R-[0-9A-Z]+)", location)
    assert match is not None
    return match.group(1), location


def test_no_address_in_any_url_or_redirect(client: TestClient, settings: Settings) -> None:
    locations = []
    for fields in ({"access_scope": "specific"}, {}):
        request_id, location = submit(client, **fields)
        locations.append(location)
    code = read_code(settings.outbox_dir, EMAIL, request_id)
    verified = verify_with(client, locations[-1], code=code)
    opt_out = post_form(client, "CA", "opt_out_sale")
    locations.append(opt_out.headers["location"])
    locations.append(verified.headers["location"])

    for location in locations:
        for form in (EMAIL, quote(EMAIL), quote(EMAIL, safe=""), "ann.page"):
            assert form not in location
