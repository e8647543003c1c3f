"""The console's consent pages with a logged-in session: look a person up (POSTed, so the email
or phone never lands in a URL), see their decisions, history, GPC conflicts and propagation
tasks, and record a choice they made by phone on their behalf."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.consent import ledger
from privacyops.consent.ledger import Method
from privacyops.consent.purposes import EMAIL, SMS, TARGETED
from privacyops.models.consent import ConsentRecord
from privacyops.models.identity import DataSubject
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.audit.websupport import events_of, log_in_as
from tests.consent.test_people import connect_partner, count
from tests.htmltree import Node, parse

ANN = "ann@example.com"
SAID = "Caller said: please stop emailing me."


@pytest.fixture
def csrf(client: TestClient, db: Session) -> str:
    return log_in_as(client, db, "agent")


def post(client: TestClient, path: str, token: str, **data: str) -> Response:
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response


def inside(html: str, tag: str, inner: str, **attrs: str) -> list[Node]:
    """The `inner` elements of the first `tag` element with these attributes."""
    return parse(html).find(tag, **attrs).find_all(inner)


def test_an_agent_sees_the_consent_section_and_the_lookup_form(
    client: TestClient, csrf: str
) -> None:
    page = client.get("/admin/consent")

    assert page.status_code == 200
    assert '<a href="/admin/consent"' in page.text
    form = re.search(r'<form method="post" action="/admin/consent" [^>]*>', page.text)
    assert form is not None
    assert f'name="csrf_token" value="{csrf}"' in page.text


def test_looking_up_someone_unknown_shows_the_defaults_and_creates_nobody(
    client: TestClient, db: Session, csrf: str, policy: PolicyVersion
) -> None:
    answer = post(client, "/admin/consent", csrf, identity=ANN, state="CA")

    assert answer.status_code == 200
    assert "Nobody is known by this email address" in answer.text
    assert "CAN-SPAM" in answer.text
    assert "TCPA" in answer.text
    assert 'name="identity" value="ann@example.com"' in answer.text  # in the record form's body
    assert count(db, DataSubject) == 0
    assert [e.details for e in events_of(db, "consent.viewed")] == [{"known": False}]


def test_a_bad_lookup_names_the_field(client: TestClient, csrf: str) -> None:
    answer = post(client, "/admin/consent", csrf, identity="12")

    assert answer.status_code == 422
    assert "Not a US phone number" in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_recording_for_someone_unknown_creates_them_and_shows_their_page(
    client: TestClient, db: Session, vault: Vault, csrf: str, policy: PolicyVersion
) -> None:
    done = post(
        client,
        "/admin/consent/choices",
        csrf,
        identity=ANN,
        purpose=EMAIL,
        allowed="no",
        wording=SAID,
        state="CA",
    )

    assert done.status_code == 303
    location = done.headers["location"]
    assert ANN not in location
    assert "%40" not in location
    who = ledger.person(db, vault, "email", ANN, "email")
    assert who is not None
    assert location == f"/admin/consent/people/{who.subject_id}?done=recorded"
    entry = db.scalars(select(ConsentRecord)).one()
    assert (entry.method, entry.allowed, entry.wording, entry.state) == ("staff", False, SAID, "CA")
    assert entry.actor.startswith("staff:")
    recorded = events_of(db, "consent.recorded")
    assert [e.subject for e in recorded] == [vault.subject_hash(str(who.subject_id))]

    page = client.get(location)

    assert page.status_code == 200
    assert "Recorded." in page.text
    assert f'<a href="/api/v1/consent/records/{entry.id}/receipt">' in page.text
    assert SAID in page.text
    assert ANN not in page.text  # the page names the person by their pseudonymous id only
    receipt = client.get(f"/api/v1/consent/records/{entry.id}/receipt")
    assert receipt.json()["x-privacyops"]["method"] == "staff"


def test_looking_up_someone_known_redirects_to_their_page_without_the_identity(
    client: TestClient, db: Session, vault: Vault, csrf: str, policy: PolicyVersion
) -> None:
    connect_partner(db, vault, policy)
    ann = ledger.person_or_new(db, vault, "email", ANN, "email")
    yes = ledger.record(db, ann, TARGETED, True, Method.preference_page, actor="consumer")
    ledger.record_gpc(db, ann, actor="consumer", policy_version=policy.number)
    db.commit()

    found = post(client, "/admin/consent", csrf, identity="ANN@example.com")

    assert found.status_code == 303
    assert found.headers["location"] == f"/admin/consent/people/{ann.subject_id}"
    page = client.get(found.headers["location"])
    assert page.status_code == 200
    conflicts = [li.text() for li in inside(page.text, "div", "li", id="conflicts")]
    assert len(conflicts) == 1
    assert f"overrode record {yes.id}" in conflicts[0]
    assert "GPC over an explicit yes" in page.text
    history = inside(page.text, "table", "tr", **{"class": "consent-history"})
    assert [row.attrs.get("class") for row in history].count("consent-conflict") == 1
    tasks = inside(page.text, "table", "tbody", **{"class": "consent-propagations"})[0]
    partners = [th.text() for th in tasks.find_all("th")]
    assert len(partners) == 3
    assert all("ad-partner" in p for p in partners)
    links = [a.attrs["href"] for a in tasks.find_all("a") if "propagations" in a.attrs["href"]]
    assert len(links) == 3  # each task opens its own page
    assert all(client.get(link).status_code == 200 for link in links)
    viewed = events_of(db, "consent.viewed")
    assert [e.subject for e in viewed] == [vault.subject_hash(str(ann.subject_id))]


def test_a_choice_without_the_persons_words_is_refused_and_nothing_is_recorded(
    client: TestClient, db: Session, vault: Vault, csrf: str, policy: PolicyVersion
) -> None:
    ann = ledger.person_or_new(db, vault, "email", ANN, "email")
    db.commit()

    refused = post(client, "/admin/consent/choices", csrf, subject=str(ann.subject_id), purpose=SMS)

    assert refused.status_code == 422
    assert "Not recorded" in refused.text
    assert "Required: yes or no" in refused.text
    assert "Required: what the person said" in refused.text
    assert db.scalars(select(ConsentRecord)).all() == []

    done = post(
        client,
        "/admin/consent/choices",
        csrf,
        subject=str(ann.subject_id),
        purpose=SMS,
        allowed="yes",
        wording="Yes, text me the offers.",
    )
    assert done.status_code == 303
    assert ledger.decide(db, ann, SMS).allowed is True


def test_forms_need_the_csrf_token_and_the_role(
    client: TestClient, db: Session, csrf: str, policy: PolicyVersion
) -> None:
    forged = client.post(
        "/admin/consent/choices",
        data={"identity": ANN, "purpose": EMAIL, "allowed": "no", "wording": SAID},
        follow_redirects=False,
    )
    log_in_as(client, db, "auditor")
    auditor = client.get("/admin/consent")

    assert forged.status_code == 403
    assert auditor.status_code == 403
    assert '<a href="/admin/consent"' not in auditor.text
    assert db.scalars(select(ConsentRecord)).all() == []
    assert count(db, DataSubject) == 0


def test_an_unknown_reference_is_not_found(client: TestClient, csrf: str) -> None:
    assert client.get("/admin/consent/people/nobody").status_code == 404
    missing = post(client, "/admin/consent/choices", csrf, subject="nobody", purpose=EMAIL)
    assert missing.status_code == 404
