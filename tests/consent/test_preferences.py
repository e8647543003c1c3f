"""The preferences page as a person uses it: a link asked for and mailed, the choices shown and
saved (giving and withdrawing alike), links that do not open it, and Global Privacy Control."""

from __future__ import annotations

import re
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.consent import ledger, pages
from privacyops.consent.ledger import Method, Who
from privacyops.consent.pages import PreferenceLinks, field_id
from privacyops.consent.purposes import EMAIL, NEVADA, SALE, SENSITIVE, SMS, TARGETED
from privacyops.models.audit import AuditEvent
from privacyops.models.consent import ConsentRecord
from privacyops.models.identity import DataSubject
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.dsr.browser_flow import outbox_messages, text_of
from tests.dsr.support import submit
from tests.htmltree import Node, parse

ANN = "ann.choices@example.com"
STRANGER = "nobody.known@example.com"
LINK = re.compile(r"https?://[^/\s]+(/preferences/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def ann(db: Session, vault: Vault, policy: PolicyVersion) -> Who:
    """A person we know (a data subject with this address)."""
    who = ledger.person_or_new(db, vault, "email", ANN, "email")
    db.commit()
    return who


def tree(response: Response) -> Node:
    return parse(response.text)


def hidden(page: Node, name: str) -> str:
    value = page.find("input", name=name).attrs["value"]
    assert value is not None
    return value


def ask_link(client: TestClient, email: str, **extra: str) -> Response:
    page = tree(client.get("/preferences"))
    data = {"csrf_token": hidden(page, "csrf_token"), "email": email, **extra}
    answer: Response = client.post("/preferences/link", data=data, follow_redirects=False)
    return answer


def mailed_path(settings: Settings, email: str) -> str:
    """The page's path in the newest link mail to `email`."""
    mails = [
        m for m in outbox_messages(settings.outbox_dir, email) if "privacy choices" in m["Subject"]
    ]
    assert mails, f"no link mail to {email}"
    match = LINK.search(text_of(mails[-1]))
    assert match is not None, text_of(mails[-1])
    return match.group(1)


def link_for(client: TestClient, settings: Settings, email: str = ANN) -> str:
    assert ask_link(client, email).status_code == 303
    return mailed_path(settings, email)


def save(
    client: TestClient, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
) -> Response:
    page = tree(client.get(path))
    data = {"csrf_token": hidden(page, "csrf_token"), **fields}
    answer: Response = client.post(path, data=data, headers=headers or {}, follow_redirects=False)
    return answer


def checked(page: Node, key: str) -> str:
    """The answer checked for a purpose on the page: "yes" or "no"."""
    radios = page.find("fieldset", id=field_id(key)).find_all("input", type="radio")
    (value,) = [r.attrs["value"] for r in radios if "checked" in r.attrs]
    assert value is not None
    return value


def records(db: Session, key: str | None = None) -> list[ConsentRecord]:
    query = select(ConsentRecord).order_by(ConsentRecord.id)
    if key is not None:
        query = query.where(ConsentRecord.purpose == key)
    return list(db.scalars(query))


def subjects(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(DataSubject)) or 0)


# --- asking for a link -------------------------------------------------------------------------


def test_a_link_is_mailed_and_the_answer_is_the_same_for_known_and_unknown_addresses(
    client: TestClient, settings: Settings, ann: Who, db: Session
) -> None:
    known = ask_link(client, ANN)
    unknown = ask_link(client, STRANGER)

    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/preferences?sent=1"
    assert known.headers["cache-control"] == "no-store"
    shown = client.get(known.headers["location"])
    assert "Check your email" in shown.text
    assert ANN not in shown.text
    for email in (ANN, STRANGER):
        path = mailed_path(settings, email)
        assert email.split("@")[0] not in path  # the address travels encrypted
        assert client.get(path).status_code == 200
    assert subjects(db) == 1  # asking created nobody


def test_a_mistyped_address_is_asked_again_and_nothing_is_mailed(
    client: TestClient, settings: Settings, policy: PolicyVersion
) -> None:
    answer = ask_link(client, "not-an-address")

    assert answer.status_code == 422
    page = tree(answer)
    assert page.find("div", role="alert").find("a", href="#email")
    assert "email-error" in (page.find("input", id="email").attrs["aria-describedby"] or "")
    assert outbox_messages(settings.outbox_dir) == []


def test_a_link_request_without_the_form_token_is_refused(
    client: TestClient, settings: Settings, policy: PolicyVersion
) -> None:
    client.get("/preferences")  # sets the cookie; the form's token is missing below
    forged = client.post("/preferences/link", data={"email": ANN}, follow_redirects=False)
    wrong = client.post(
        "/preferences/link", data={"email": ANN, "csrf_token": "x"}, follow_redirects=False
    )

    assert forged.status_code == wrong.status_code == 403
    assert outbox_messages(settings.outbox_dir) == []


def test_link_requests_are_rate_limited(
    app: FastAPI, client: TestClient, settings: Settings, policy: PolicyVersion
) -> None:
    app.state.settings = settings.model_copy(update={"rate_limit_public": "2/minute"})

    answers = [ask_link(client, ANN).status_code for _ in range(3)]

    assert answers == [303, 303, 429]
    assert len(outbox_messages(settings.outbox_dir, ANN)) == 2


# --- the page ----------------------------------------------------------------------------------


def test_the_page_shows_each_choice_with_its_current_decision(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    ledger.record(db, ann, SMS, True, Method.api, actor="token:1")
    db.commit()
    path = link_for(client, settings)

    answer = client.get(path)

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    page = tree(answer)
    legends = [f.find("legend").text() for f in page.find_all("fieldset")]
    assert legends == [p.name for p in pages.SHOWN]
    assert len(legends) == 8
    assert "Name and likeness in promotions" in legends
    assert any("Nevada" in legend for legend in legends)
    assert checked(page, SMS) == "yes"
    assert checked(page, EMAIL) == "yes"  # opt-out by default
    assert checked(page, NEVADA) == "no"  # opt-in by default
    sms = page.find("fieldset", id=field_id(SMS)).text()
    assert "Yes: our systems, at your request" in sms
    assert "Without a choice from you: no, unless you say yes." in sms
    for fieldset in page.find_all("fieldset"):  # Yes and No alike, each with its label
        radios = fieldset.find_all("input", type="radio")
        assert [r.attrs["value"] for r in radios] == ["yes", "no"]
        for radio in radios:
            label = fieldset.find("label", **{"for": radio.attrs["id"] or ""})
            assert label.text() in ("Yes", "No")
    history = page.find("table").text()
    assert "Marketing texts" in history
    assert "our systems, at your request" in history
    assert "a***@example.com" in answer.text
    assert ANN not in answer.text


def test_the_defaults_follow_the_state_of_the_persons_latest_request(
    client: TestClient, settings: Settings, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    submit(db, vault, policy, email=ANN, state="CA")
    db.commit()
    path = link_for(client, settings)

    page = tree(client.get(path))

    sensitive = page.find("fieldset", id=field_id(SENSITIVE)).text()
    assert "Without a choice from you: yes, until you say no." in sensitive  # a right to limit
    assert checked(page, SENSITIVE) == "yes"
    assert save(client, path, {SENSITIVE: "no"}).status_code == 303
    assert records(db, SENSITIVE)[-1].state == "CA"


def test_saving_records_the_choice_and_withdrawing_takes_the_same_step(
    client: TestClient, settings: Settings, db: Session, ann: Who, policy: PolicyVersion
) -> None:
    path = link_for(client, settings)

    given = save(client, path, {SMS: "yes", EMAIL: "yes"})
    assert given.status_code == 303
    assert given.headers["location"] == f"{path}?saved=1"
    assert ledger.decide(db, ann, SMS).allowed is True
    withdrawn = save(client, path, {SMS: "no", EMAIL: "yes"})
    assert withdrawn.status_code == 303

    kept = records(db)
    assert [(r.purpose, r.allowed) for r in kept] == [(SMS, True), (SMS, False)]  # email unchanged
    assert {r.method for r in kept} == {"preference_page"}
    assert {r.policy_version for r in kept} == {policy.number}
    assert all(r.wording and "Marketing texts" in r.wording for r in kept)
    assert kept[0].wording
    assert kept[0].wording.endswith("Answer: Yes.")
    decided = ledger.decide(db, ann, SMS)
    assert (decided.allowed, decided.method, decided.record_id) == (
        False,
        "preference_page",
        kept[1].id,
    )
    page = tree(client.get(withdrawn.headers["location"]))
    assert page.find("div", role="status").text() == "Your choices are saved."
    assert checked(page, SMS) == "no"
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "consent.recorded")).all()
    assert len(audited) == 2


def test_an_unknown_person_is_created_only_when_they_save_a_choice(
    client: TestClient, settings: Settings, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    path = link_for(client, settings, STRANGER)

    assert client.get(path).status_code == 200
    assert save(client, path, {EMAIL: "yes"}).status_code == 303  # no change: nothing to keep
    assert subjects(db) == 0
    assert save(client, path, {NEVADA: "yes"}).status_code == 303

    stranger = ledger.person(db, vault, "email", STRANGER, "email")
    assert stranger is not None
    assert ledger.decide(db, stranger, NEVADA).allowed is True


def test_a_bad_answer_names_the_choice_and_records_nothing(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    path = link_for(client, settings)

    answer = save(client, path, {SMS: "maybe", EMAIL: "no"})

    assert answer.status_code == 422
    page = tree(answer)
    summary = page.find("div", role="alert")
    assert (
        summary.find("a", href=f"#{field_id(SMS)}").text()
        == "Choose Yes or No for Marketing texts."
    )
    assert page.find("fieldset", id=field_id(SMS)).attrs["aria-describedby"] == (
        f"{field_id(SMS)}-hint {field_id(SMS)}-error"
    )
    assert checked(page, EMAIL) == "no"  # what the person chose stays chosen
    assert records(db) == []


def test_saving_without_the_form_token_is_refused(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    path = link_for(client, settings)
    client.get(path)

    forged = client.post(path, data={SMS: "yes"}, follow_redirects=False)

    assert forged.status_code == 403
    assert records(db) == []


def test_altered_expired_and_foreign_links_open_nothing_and_say_nothing(
    client: TestClient,
    settings: Settings,
    vault: Vault,
    db: Session,
    ann: Who,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = link_for(client, settings)
    token = path.rsplit("/", 1)[1]
    links = PreferenceLinks.from_settings(settings)
    with monkeypatch.context() as patched:
        eight_days_ago = int(time.time()) - 8 * 86400
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        expired = links.token(vault, ANN)
    foreign = PreferenceLinks("another-secret-key", "http://x").token(vault, ANN)
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    answers = [
        client.get(f"/preferences/{t}") for t in (altered, expired, foreign, "x" * 2000, "link")
    ]
    posted = client.post(f"/preferences/{altered}", data={SMS: "yes"})

    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.text for a in answers}) == 1
    assert "a***@" not in answers[0].text
    assert ANN not in answers[0].text
    assert posted.status_code == 404
    assert records(db) == []


# --- Global Privacy Control --------------------------------------------------------------------


def test_a_gpc_signal_opts_the_person_out_and_the_page_says_so(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    path = link_for(client, settings)

    ignored = client.get(path, headers={"Sec-GPC": "0"})
    assert records(db) == []
    assert "gpc-honoured" not in ignored.text
    answer = client.get(path, headers={"Sec-GPC": "1"})
    again = client.get(path, headers={"Sec-GPC": "1"})

    assert answer.status_code == again.status_code == 200
    kept = records(db)
    assert {(r.purpose, r.allowed, r.method) for r in kept} == {
        (TARGETED, False, "gpc"),
        (SALE, False, "gpc"),
    }
    assert len(kept) == 2  # the signal repeats; the record does not
    assert ledger.decide(db, ann, TARGETED).allowed is False
    page = tree(answer)
    honoured = page.find("div", id="gpc-honoured").text()
    assert honoured.startswith("Your browser's Global Privacy Control signal was honoured")
    assert honoured.endswith(
        "targeted advertising and sharing, and sale of personal information are off for you."
    )
    assert checked(page, TARGETED) == "no"
    assert checked(page, SALE) == "no"
    assert "stays off while it does" in page.find("fieldset", id=field_id(TARGETED)).text()


def test_a_gpc_signal_over_an_earlier_yes_is_shown_as_a_conflict_and_can_be_kept_off(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    path = link_for(client, settings)
    assert save(client, path, {TARGETED: "no"}).status_code == 303
    assert save(client, path, {TARGETED: "yes"}).status_code == 303
    yes = records(db, TARGETED)[-1]

    page = tree(client.get(path, headers={"Sec-GPC": "1"}))

    signal = records(db, TARGETED)[-1]
    assert (signal.method, signal.allowed, signal.overrides_record) == ("gpc", False, yes.id)
    assert ledger.decide(db, ann, TARGETED).conflict_with == yes.id
    conflict = page.find("div", id="conflict-1")
    day = f"{yes.recorded_at:%B} {yes.recorded_at.day}, {yes.recorded_at.year}"
    assert conflict.text().startswith(
        "Your Global Privacy Control signal turned off targeted advertising and sharing, "
        f"which you had allowed on {day}."
    )
    assert "The signal wins while your browser sends it." in conflict.text()
    keep = {
        "csrf_token": hidden(conflict, "csrf_token"),
        "keep_off": hidden(conflict, "keep_off"),
    }

    kept = client.post(path, data=keep, follow_redirects=False)

    assert kept.status_code == 303
    last = records(db, TARGETED)[-1]
    assert (last.method, last.allowed) == ("preference_page", False)
    assert "conflict-1" not in client.get(path).text


def test_saving_yes_while_the_signal_is_on_is_recorded_and_the_signal_wins(
    client: TestClient, settings: Settings, db: Session, ann: Who
) -> None:
    path = link_for(client, settings)
    assert save(client, path, {TARGETED: "no"}).status_code == 303

    answer = save(client, path, {TARGETED: "yes"}, headers={"Sec-GPC": "1"})

    assert answer.status_code == 303
    given, signal = records(db, TARGETED)[-2:]
    assert (given.method, given.allowed) == ("preference_page", True)
    assert (signal.method, signal.allowed, signal.overrides_record) == ("gpc", False, given.id)
    assert ledger.decide(db, ann, TARGETED).allowed is False
