"""Choices taken on a person's behalf and what staff see of them: the API (`POST
/api/v1/consent/records`, `GET /api/v1/consent/people`), the service, and `privacyops consent
import` (the whole file checked first, nothing twice, a back-dated choice kept in the history
without replacing a newer one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops import runtime
from privacyops.cli import app as cli_app
from privacyops.connectors import registry
from privacyops.consent import ledger, people
from privacyops.consent.ledger import Method, Who
from privacyops.consent.purposes import EMAIL, PURPOSES, SALE, SMS, TARGETED
from privacyops.dsr.service import manifest_of
from privacyops.errors import InvalidInput
from privacyops.models.consent import ConsentDecision, ConsentPropagation, ConsentRecord
from privacyops.models.identity import DataSubject
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.vault.service import Vault
from tests.audit.websupport import bearer, events_of, log_in_as

ANN = "ann@example.com"
BOB_PHONE = "(212) 555-0123"
T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
PARTNER_DECLARATIONS = """
dataset:
  - fides_key: ad_partner
    fides_meta: {location: united_states}
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
"""
runner = CliRunner()


def connect_partner(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    """An advertising partner reached by hand: opt-outs of sale and sharing become its tasks."""
    registry.register(
        db,
        vault,
        manifest_of(policy),
        key="ad-partner",
        kind="manual",
        declarations=PARTNER_DECLARATIONS,
        config={"instructions": "Opt the person out in the partner's portal."},
        recipient="third_party_advertising_companies",
        actor="test",
    )
    db.commit()


def count(db: Session, model: type[Any]) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def post_record(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/consent/records", json=body, headers=headers)


def look_up(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    answer = client.get("/api/v1/consent/people", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def fields_of(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {p["field"]: p["message"] for p in answer.json()["errors"]}


# -- the API -----------------------------------------------------------------------------------


def test_a_system_records_a_choice_with_a_token_and_the_person_is_created(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    engineer = bearer(db, "engineer")

    answer = post_record(client, engineer, email="Ann@Example.com", purpose=SMS, allowed=True)

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["purpose"], body["allowed"], body["method"]) == (SMS, True, "api")
    assert body["policy_version"] == policy.number
    assert body["current"] is True
    assert body["receipt_url"].endswith(f"/api/v1/consent/records/{body['id']}/receipt")
    who = ledger.person(db, vault, "email", ANN, "email")
    assert who is not None
    assert ledger.decide(db, who, SMS).record_id == body["id"]
    shown = client.get(f"/api/v1/consent/records/{body['id']}/receipt", headers=engineer)
    assert shown.json()["x-privacyops"]["method"] == "api"
    recorded = events_of(db, "consent.recorded")
    assert [e.subject for e in recorded] == [vault.subject_hash(str(who.subject_id))]
    assert recorded[0].actor.startswith("token:")
    assert recorded[0].details == {"purpose": SMS, "allowed": True, "method": "api"}


def test_a_staff_session_records_as_staff_and_must_give_the_persons_words(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    csrf = log_in_as(client, db, "agent")
    headers = {"X-CSRF-Token": csrf}

    without = post_record(client, headers, phone=BOB_PHONE, purpose=EMAIL, allowed=False)
    said = "Caller: please stop emailing me offers."
    done = post_record(
        client, headers, phone=BOB_PHONE, purpose=EMAIL, allowed=False, wording=said, state="ny"
    )
    no_csrf = post_record(client, {}, phone=BOB_PHONE, purpose=EMAIL, allowed=False, wording=said)

    assert "wording" in fields_of(without)
    assert done.status_code == 201, done.text
    assert (done.json()["method"], done.json()["state"]) == ("staff", "NY")
    assert no_csrf.status_code == 403
    entry = db.get_one(ConsentRecord, done.json()["id"])
    assert entry.wording == said
    assert entry.actor.startswith("staff:")
    assert entry.client_hash is None  # the client is the agent, not the person
    assert count(db, ConsentRecord) == 1


def test_every_bad_field_is_named_at_once_and_nothing_is_written(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    engineer = bearer(db, "engineer")
    future = (utcnow() + timedelta(days=1)).isoformat()

    both = post_record(
        client,
        engineer,
        email=ANN,
        phone=BOB_PHONE,
        purpose="marketing.nonsense",
        allowed=True,
        recorded_at=future,
        state="ZZ",
    )
    cookie = post_record(client, engineer, email=ANN, purpose="cookies.analytics", allowed=True)
    bad_email = post_record(client, engineer, email="not-an-address", purpose=EMAIL, allowed=True)
    neither = post_record(client, engineer, purpose=EMAIL, allowed=True)
    not_a_bool = post_record(client, engineer, email=ANN, purpose=EMAIL, allowed="maybe")

    assert set(fields_of(both)) == {"email", "purpose", "recorded_at", "state"}
    assert "per browser" in fields_of(cookie)["purpose"]
    assert "not-an-address" not in str(fields_of(bad_email))
    assert set(fields_of(bad_email)) == {"email"}
    assert "exactly one" in fields_of(neither)["email"]
    assert set(fields_of(not_a_bool)) == {"body.allowed"}
    assert count(db, ConsentRecord) == 0
    assert count(db, DataSubject) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/consent/records"), ("GET", "/api/v1/consent/people")],
)
def test_the_person_routes_refuse_callers_without_the_consent_permissions(
    client: TestClient, db: Session, policy: PolicyVersion, method: str, path: str
) -> None:
    body = {"email": ANN, "purpose": EMAIL, "allowed": False, "wording": "x"}

    def call(headers: dict[str, str]) -> int:
        answer: Response = (
            client.get(path, params={"email": ANN}, headers=headers)
            if method == "GET"
            else client.post(path, json=body, headers=headers)
        )
        return answer.status_code

    assert call({}) == 401
    assert call(bearer(db, "auditor")) == 403
    assert call(bearer(db, "admin")) == 403
    # The retailer's systems record choices but never read a person's history.
    assert call(bearer(db, "engineer")) == (201 if method == "POST" else 403)
    assert call(bearer(db, "agent")) in (200, 201)
    denied = "consent.record" if method == "POST" else "consent.history"
    assert [e.details["permission"] for e in events_of(db, "access.denied")] == [denied] * (
        2 if method == "POST" else 3
    )


def test_looking_up_an_unknown_person_gives_the_defaults_and_creates_nobody(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    agent = bearer(db, "agent")

    found = look_up(client, agent, email=ANN, state="CA")

    assert found["known"] is False
    assert [d["purpose"] for d in found["decisions"]] == [p.key for p in PURPOSES]
    by_key = {d["purpose"]: d for d in found["decisions"]}
    assert by_key[EMAIL]["allowed"] is True
    assert "CAN-SPAM" in by_key[EMAIL]["reason"]
    assert by_key[SMS]["allowed"] is False
    assert "TCPA" in by_key[SMS]["reason"]
    assert all(d["record_id"] is None for d in found["decisions"])
    assert found["history"] == []
    assert found["propagations"] == []
    assert count(db, DataSubject) == 0
    viewed = events_of(db, "consent.viewed")
    assert [(e.subject, e.details) for e in viewed] == [(None, {"known": False})]


def test_looking_up_a_person_shows_decisions_history_conflicts_and_propagation(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    connect_partner(db, vault, policy)
    ann = Who(subject_id=people.someone(db, vault, people.one_identity(ANN, None)).subject_id)
    yes = ledger.record(db, ann, TARGETED, True, Method.preference_page, actor="consumer")
    gpc = ledger.record_gpc(db, ann, actor="consumer", policy_version=policy.number)
    db.commit()
    agent = bearer(db, "agent")

    found = look_up(client, agent, email=ANN)

    assert found["known"] is True
    by_key = {d["purpose"]: d for d in found["decisions"]}
    targeted = by_key[TARGETED]
    assert (targeted["allowed"], targeted["method"], targeted["conflict_with"]) == (
        False,
        "gpc",
        yes.id,
    )
    assert by_key[SALE]["allowed"] is False
    history = {h["id"]: h for h in found["history"]}
    assert set(history) == {yes.id, *(r.id for r in gpc)}
    assert history[yes.id]["current"] is False
    conflict = next(r for r in gpc if r.purpose == TARGETED)
    assert history[conflict.id]["overrides_record"] == yes.id
    assert history[conflict.id]["current"] is True
    kinds = sorted((p["kind"], p["status"], p["datastore"]) for p in found["propagations"])
    assert kinds == [
        ("sale", "pending", "ad-partner"),
        ("sharing", "pending", "ad-partner"),
        ("targeted_advertising", "pending", "ad-partner"),
    ]
    assert all(p["due_on"] for p in found["propagations"])
    viewed = events_of(db, "consent.viewed")
    assert [e.subject for e in viewed] == [vault.subject_hash(str(ann.subject_id))]
    assert viewed[0].actor.startswith("token:")


def test_a_back_dated_choice_is_kept_without_replacing_a_newer_decision(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    engineer = bearer(db, "engineer")
    newer = post_record(client, engineer, email=ANN, purpose=EMAIL, allowed=True)
    older_at = (utcnow() - timedelta(days=30)).isoformat()

    older = post_record(
        client, engineer, email=ANN, purpose=EMAIL, allowed=False, recorded_at=older_at
    )

    assert older.status_code == 201, older.text
    assert older.json()["current"] is False
    found = look_up(client, bearer(db, "agent"), email=ANN)
    email = next(d for d in found["decisions"] if d["purpose"] == EMAIL)
    assert (email["allowed"], email["record_id"]) == (True, newer.json()["id"])
    assert [h["id"] for h in found["history"]] == [newer.json()["id"], older.json()["id"]]


# -- the ledger's rule for back-dated records ---------------------------------------------------


def test_the_current_decision_is_the_latest_by_when_the_choice_was_made(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    connect_partner(db, vault, policy)
    ann = ledger.person_or_new(db, vault, "email", ANN, "email")
    later = ledger.record(db, ann, SALE, True, Method.staff, actor="t", at=T0)

    earlier = ledger.record(db, ann, SALE, False, Method.import_, actor="t", at=T0 - timedelta(1))
    same_moment = ledger.record(db, ann, EMAIL, False, Method.api, actor="t", at=T0)
    tie = ledger.record(db, ann, EMAIL, True, Method.api, actor="t", at=T0)

    assert ledger.decide(db, ann, SALE).record_id == later.id
    decision = db.scalars(select(ConsentDecision).where(ConsentDecision.purpose == SALE)).one()
    assert decision.updated_at == T0
    # The refusal the person has since reversed is not passed on to partners.
    assert db.scalars(select(ConsentPropagation)).all() == []
    assert ledger.decide(db, ann, EMAIL).record_id == tie.id != same_moment.id
    assert [r.id for r in ledger.history(db, ann)][-1] == earlier.id


# -- the import --------------------------------------------------------------------------------


@pytest.fixture
def cli(
    use_test_database: Any, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> Any:  # the CLI on the test's transaction and vault
    monkeypatch.setattr(runtime, "open_vault", lambda _settings: vault)
    return lambda *args: runner.invoke(cli_app, ["consent", "import", *args])


def write(tmp_path: Path, text: str, name: str = "choices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """email,phone,purpose,allowed,recorded_at,wording,state
ann@example.com,,marketing.communications.email,no,2026-03-01T10:00:00Z,Unsubscribed at the till,CA
,(212) 555-0123,marketing.communications.sms,yes,2026-03-02,,NY
ann@example.com,,third_party_sharing,no,,"Do not sell, she said",ca
"""


def test_a_good_file_is_recorded_as_import_and_audited_once(
    cli: Any, db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path
) -> None:
    connect_partner(db, vault, policy)

    result = cli(str(write(tmp_path, GOOD)))

    assert result.exit_code == 0, result.output
    assert "3 row(s); recorded 3, 0 already recorded; 2 new person(s) created" in result.stdout
    db.expire_all()
    records = db.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(r.purpose, r.allowed, r.method, r.actor) for r in records] == [
        (EMAIL, False, "import", "cli"),
        (SMS, True, "import", "cli"),
        (SALE, False, "import", "cli"),
    ]
    assert records[0].recorded_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert records[1].recorded_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert (records[0].wording, records[0].state, records[2].state) == (
        "Unsubscribed at the till",
        "CA",
        "CA",
    )
    assert records[0].policy_version == policy.number
    bob = ledger.person(db, vault, "phone", "+12125550123", "phone")
    assert bob is not None
    assert ledger.decide(db, bob, SMS).allowed is True
    # The imported opt-out of sale is passed on to the partner like any other.
    assert [t.kind for t in db.scalars(select(ConsentPropagation))] == ["sale"]
    imported = events_of(db, "consent.imported")
    assert [(e.actor, e.subject) for e in imported] == [("cli", None)]
    assert imported[0].details == {
        "rows": 3,
        "recorded": 3,
        "already_recorded": 0,
        "history_only": 0,
        "people_created": 2,
    }


def test_a_bad_file_names_each_line_and_field_and_writes_nothing(
    cli: Any, db: Session, policy: PolicyVersion, tmp_path: Path
) -> None:
    text = (
        "email,phone,purpose,allowed,recorded_at\n"
        "ann@example.com,,marketing.communications.email,no,\n"  # fine
        "not-an-address,,marketing.communications.email,perhaps,yesterday\n"
        "ann@example.com,(212) 555-0123,marketing.nonsense,yes,\n"
        "\n"
        "ann@example.com,,marketing.communications.sms,,2999-01-01T00:00:00Z\n"
        "ann@example.com,,marketing.communications.sms,yes\n"
        '"bob@example.com",,"marketing.communications.sms",yes,"2026-01-01\n'
        'T00:00"\n'
        ",,,,\n"  # an empty row is no row
    )
    path = write(tmp_path, text)

    result = cli(str(path))

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[:-1] == [
        f"{path}:3: email: not an email address (expected name@example.com)",
        f"{path}:3: allowed: one of yes, no, true, false, 1, 0",
        f"{path}:3: recorded_at: an ISO 8601 date and time, such as 2024-05-01T09:30:00Z",
        f"{path}:4: email: give exactly one of email or phone",
        f"{path}:4: purpose: unknown purpose 'marketing.nonsense'; known: "
        + ", ".join(p.key for p in PURPOSES),
        f"{path}:6: allowed: required: yes or no",
        f"{path}:6: recorded_at: cannot be in the future",
        f"{path}:7: row: 4 values for 5 columns",
        f"{path}:8: recorded_at: an ISO 8601 date and time, such as 2024-05-01T09:30:00Z",
    ]
    assert lines[-1] == f"{path}: 9 problem(s); nothing imported"
    assert "not-an-address" not in result.output
    assert count(db, ConsentRecord) == 0
    assert count(db, DataSubject) == 0
    assert events_of(db, "consent.imported") == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "choices.csv:1: header: the file has no header line"),
        (b"mail,purpose,allowed\n", "choices.csv:1: mail: unknown column"),
        (b"email,allowed\n", "choices.csv:1: purpose: missing column"),
        (b"purpose,allowed\n", "choices.csv:1: email: missing column: email or phone"),
        (b"email,email,purpose,allowed\n", "choices.csv:1: email: this column appears more"),
        (b"email,purpose,allowed\n\xff,x,y\n", "choices.csv:2: file: not UTF-8 text"),
    ],
)
def test_an_unreadable_file_is_refused_before_any_row(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        people.read_import(data, "choices.csv", utcnow())

    assert refused.value.problems[0].render().startswith(expected)


def test_importing_the_same_file_again_records_nothing_twice(
    cli: Any, db: Session, policy: PolicyVersion, tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD + GOOD.splitlines()[1] + "\n")  # a row repeated in the file

    first = cli(str(path))
    again = cli(str(path))

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "4 row(s); recorded 3, 1 already recorded; 2 new person(s)" in first.stdout
    assert "4 row(s); recorded 0, 4 already recorded; 0 new person(s)" in again.stdout
    assert count(db, ConsentRecord) == 3
    assert count(db, DataSubject) == 2
    assert len(events_of(db, "consent.imported")) == 2


def test_an_imported_choice_older_than_the_current_decision_stays_in_the_history(
    cli: Any, db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path
) -> None:
    ann = ledger.person_or_new(db, vault, "email", ANN, "email")
    yes = ledger.record(db, ann, EMAIL, True, Method.preference_page, actor="consumer", at=T0)
    db.commit()
    path = write(
        tmp_path,
        "email,purpose,allowed,recorded_at\n"
        f"{ANN},{EMAIL},no,2026-02-01T00:00:00Z\n"  # before the person's own yes
        f"{ANN},{SMS},yes,2026-02-01T00:00:00Z\n",  # nothing newer: it decides
    )

    result = cli(str(path))

    assert result.exit_code == 0, result.output
    assert "1 choice(s) dated before the person's current decision" in result.stdout
    assert ledger.decide(db, ann, EMAIL).record_id == yes.id
    assert ledger.decide(db, ann, SMS).allowed is True
    assert [(r.purpose, r.method) for r in ledger.history(db, ann)] == [
        (EMAIL, "preference_page"),
        (SMS, "import"),  # the same moment: the later record first
        (EMAIL, "import"),
    ]
    assert events_of(db, "consent.imported")[0].details["history_only"] == 1


def test_a_dry_run_checks_and_counts_and_writes_nothing(
    cli: Any, db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path
) -> None:
    ledger.person_or_new(db, vault, "email", ANN, "email")
    db.commit()
    before = count(db, DataSubject)

    result = cli(str(write(tmp_path, GOOD)), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "would record 3, 0 already recorded; 1 new person(s) would be created" in result.stdout
    assert "dry run: nothing written" in result.stdout
    assert count(db, ConsentRecord) == 0
    assert count(db, DataSubject) == before
    assert events_of(db, "consent.imported") == []


def test_a_missing_file_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    result = cli(str(tmp_path / "nowhere.csv"))

    assert result.exit_code == 2
