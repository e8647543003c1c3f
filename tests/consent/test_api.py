"""The consent API as the retailer's systems call it, and the one-click unsubscribe as a mail
client does (RFC 8058): headers, a POST without cookies, a GET that changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.consent.gpp import decode
from privacyops.consent.purposes import EMAIL, SMS
from privacyops.models.audit import AuditEvent
from privacyops.models.consent import ConsentRecord
from privacyops.models.policy import PolicyVersion
from privacyops.models.staff import ApiToken
from privacyops.models.types import utcnow
from privacyops.staff import service as staff_service
from privacyops.web import auth
from tests.audit.websupport import bearer, log_in_as

ANN = "ann@example.com"


@pytest.fixture
def engineer(db: Session) -> dict[str, str]:
    return bearer(db, "engineer")


def decision(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, object]:
    answer = client.get("/api/v1/consent/decision", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def headers_for(client: TestClient, auth: dict[str, str], email: str) -> dict[str, str]:
    answer = client.post(
        "/api/v1/consent/unsubscribe-headers", json={"email": email, "list": "news"}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, str] = answer.json()
    return found


def url_path(list_unsubscribe: str) -> str:
    match = re.match(r"<https?://[^/]+(/u/[^>]+)>, <mailto:", list_unsubscribe)
    assert match is not None, list_unsubscribe
    return match.group(1)


def test_one_click_unsubscribe_end_to_end_then_the_decision_says_no(
    client: TestClient, db: Session, policy: PolicyVersion, engineer: dict[str, str]
) -> None:
    assert decision(client, engineer, email=ANN, purpose=EMAIL)["allowed"] is True
    headers = headers_for(client, engineer, ANN)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ANN not in headers["List-Unsubscribe"]  # the token is opaque
    path = url_path(headers["List-Unsubscribe"])
    client.cookies.clear()

    shown = client.get(path)  # a mail scanner prefetching the link
    assert shown.status_code == 200
    assert db.scalars(select(ConsentRecord)).all() == []

    done = client.post(path, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)

    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    answer = decision(client, engineer, email=ANN, purpose=EMAIL)
    assert answer["allowed"] is False
    assert "unsubscribe_link" in str(answer["reason"])
    kept = db.scalars(select(ConsentRecord)).one()
    assert (kept.method, kept.list_key, kept.actor) == ("unsubscribe_link", "news", "consumer")


def test_one_click_accepts_multipart_and_refuses_tampered_tokens(
    client: TestClient, db: Session, policy: PolicyVersion, engineer: dict[str, str]
) -> None:
    path = url_path(headers_for(client, engineer, ANN)["List-Unsubscribe"])

    multipart = client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    tampered = client.post(path[:-3] + "abc", data={"List-Unsubscribe": "One-Click"})
    wrong_body = client.post(path, data={"something": "else"})

    assert multipart.status_code == 200
    assert tampered.status_code == 404
    assert wrong_body.status_code == 400
    assert len(db.scalars(select(ConsentRecord)).all()) == 1


def test_the_decision_api_needs_a_token_with_the_consent_scope(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    anonymous = client.get("/api/v1/consent/decision", params={"email": ANN, "purpose": EMAIL})
    auditor = client.get(
        "/api/v1/consent/decision",
        params={"email": ANN, "purpose": EMAIL},
        headers=bearer(db, "auditor"),
    )
    bad = client.get(
        "/api/v1/consent/decision",
        params={"email": ANN, "purpose": "nonsense"},
        headers=bearer(db, "engineer"),
    )

    assert anonymous.status_code == 401
    assert auditor.status_code == 403
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "purpose"


def test_the_filter_streams_back_who_may_be_contacted(
    client: TestClient, db: Session, policy: PolicyVersion, engineer: dict[str, str]
) -> None:
    path = url_path(headers_for(client, engineer, "out@example.com")["List-Unsubscribe"])
    client.post(path, data={"List-Unsubscribe": "One-Click"})
    body = "\n".join(["a@example.com", "out@example.com", "", "b@example.com", "junk"]) + "\n"

    answer = client.post(
        "/api/v1/consent/filter",
        params={"purpose": EMAIL},
        content=body.encode(),
        headers={**engineer, "Content-Type": "text/plain"},
    )

    assert answer.status_code == 200
    assert answer.text.splitlines() == ["a@example.com", "b@example.com"]
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "consent.filtered")).one()


@pytest.mark.parametrize(
    ("text", "action", "allowed"),
    [
        ("STOP", "opt_out", False),
        ("please stop texting me", "opt_out", False),
        ("Opt-Out", "opt_out", False),
        ("unsubscribe.", "opt_out", False),
        ("start", "opt_in", True),
        ("UNSTOP", "opt_in", True),
        ("help", "help", None),
        ("I will start shopping soon", "none", None),
    ],
)
def test_sms_replies_are_ledger_records(
    client: TestClient,
    db: Session,
    policy: PolicyVersion,
    engineer: dict[str, str],
    text: str,
    action: str,
    allowed: bool | None,
) -> None:
    answer = client.post(
        "/api/v1/consent/sms", json={"from": "(212) 555-0123", "body": text}, headers=engineer
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["action"] == action
    if allowed is None:
        assert db.scalars(select(ConsentRecord)).all() == []
    else:
        assert decision(client, engineer, phone="2125550123", purpose=SMS)["allowed"] is allowed
    if action == "help":
        assert "Msg&data rates may apply" in answer.json()["reply"]


def test_gpc_support_resource(client: TestClient, policy: PolicyVersion) -> None:
    answer = client.get("/.well-known/gpc.json")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"gpc": True, "lastUpdate": "2024-07-31"}


BROWSER = "b-0123456789abcdef"


def test_banner_choices_are_recorded_per_browser(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    answer = client.post(
        "/api/v1/consent/browser",
        json={"browser_id": BROWSER, "choices": {"analytics": True, "advertising": False}},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"] == {
        "essential": True,
        "functional": False,
        "analytics": True,
        "advertising": False,
    }
    assert answer.json()["gpc_honoured"] is False
    shown = client.get(f"/api/v1/consent/browser/{BROWSER}").json()
    assert shown["choices"]["analytics"] is True
    kept = db.scalars(select(ConsentRecord)).all()
    assert {(r.purpose, r.method, r.policy_version) for r in kept} == {
        ("cookies.analytics", "banner", policy.number),
        ("cookies.advertising", "banner", policy.number),
        # refusing advertising cookies is also the opt-out of sale, sharing and targeting
        ("marketing.advertising.third_party.targeted", "banner", policy.number),
        ("third_party_sharing", "banner", policy.number),
    }


@pytest.mark.parametrize("header", ["1", " 1 "])
def test_a_gpc_header_opts_the_browser_out_and_a_conflict_is_shown(
    client: TestClient, db: Session, policy: PolicyVersion, header: str
) -> None:
    client.post(
        "/api/v1/consent/browser", json={"browser_id": BROWSER, "choices": {"advertising": True}}
    )

    answer = client.get(f"/api/v1/consent/browser/{BROWSER}", headers={"Sec-GPC": header})

    assert answer.json()["gpc_honoured"] is True
    assert answer.json()["choices"]["advertising"] is False
    assert answer.json()["conflicts"] == ["cookies.advertising"]
    gpc = db.scalars(select(ConsentRecord).where(ConsentRecord.method == "gpc")).all()
    assert {r.purpose for r in gpc} == {
        "third_party_sharing",
        "marketing.advertising.third_party.targeted",
        "cookies.advertising",
    }


@pytest.mark.parametrize("header", ["0", "true", "yes", ""])
def test_a_gpc_header_other_than_exactly_1_is_ignored(
    client: TestClient, db: Session, policy: PolicyVersion, header: str
) -> None:
    answer = client.get(f"/api/v1/consent/browser/{BROWSER}", headers={"Sec-GPC": header})

    assert answer.json()["gpc_honoured"] is False
    assert db.scalars(select(ConsentRecord)).all() == []


def test_bad_browser_input_names_the_field(client: TestClient, policy: PolicyVersion) -> None:
    short = client.post("/api/v1/consent/browser", json={"browser_id": "x", "choices": {}})
    wrong_class = client.post(
        "/api/v1/consent/browser", json={"browser_id": BROWSER, "choices": {"essential": False}}
    )

    assert short.status_code == 422
    assert "browser_id" in short.text
    assert wrong_class.status_code == 422


def test_the_gpp_string_follows_the_browsers_choices_and_gpc(
    client: TestClient, policy: PolicyVersion
) -> None:
    before = client.get("/api/v1/consent/gpp", params={"browser_id": BROWSER, "state": "CA"})
    client.get(f"/api/v1/consent/browser/{BROWSER}", headers={"Sec-GPC": "1"})
    after = client.get("/api/v1/consent/gpp", params={"browser_id": BROWSER, "state": "CA"})
    bad = client.get("/api/v1/consent/gpp", params={"browser_id": "short"})

    assert before.status_code == after.status_code == 200
    opted_in = decode(before.json()["gpp"]).sections["usnat"].fields
    opted_out = decode(after.json()["gpp"]).sections
    assert (opted_in["SaleOptOut"], opted_in["Gpc"]) == (2, False)
    assert opted_out["usnat"].fields["SaleOptOut"] == 1
    assert opted_out["usnat"].fields["TargetedAdvertisingOptOut"] == 1
    assert opted_out["usnat"].fields["Gpc"] is True
    assert opted_out["usca"].fields["SharingOptOut"] == 1
    assert after.json()["gpp_sid"] == [7, 8]
    assert bad.status_code == 422


def test_a_ledger_record_exports_as_a_kantara_receipt(
    client: TestClient, db: Session, policy: PolicyVersion, engineer: dict[str, str]
) -> None:
    path = url_path(headers_for(client, engineer, ANN)["List-Unsubscribe"])
    client.post(path, data={"List-Unsubscribe": "One-Click"})
    entry = db.scalars(select(ConsentRecord)).one()

    answer = client.get(f"/api/v1/consent/records/{entry.id}/receipt", headers=engineer)
    missing = client.get("/api/v1/consent/records/999999/receipt", headers=engineer)

    assert answer.status_code == 200
    found = answer.json()
    required = {
        "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
        "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat",
    }  # fmt: skip
    assert required <= set(found)
    assert found["version"] == "KI-CR-v1.1.0"
    assert found["consentTimestamp"] == int(entry.recorded_at.timestamp())
    assert found["piiPrincipalId"] == entry.subject_id
    assert ANN not in answer.text
    item = found["services"][0]["purposes"][0]
    assert item["consentType"] == "EXPLICIT"
    assert item["purposeCategory"] == ["6 - Marketing"]
    assert found["x-privacyops"]["allowed"] is False
    assert found["policyUrl"].endswith(f"/policy/versions/{policy.number}")
    assert missing.status_code == 404


def test_a_decision_checks_the_token_without_writing_and_notes_its_use_once_a_minute(
    client: TestClient, db: Session, policy: PolicyVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision route checks its token in a read-only session (`require_reading`): the
    token's last use is still noted, once a minute; a revoked token is refused (401)."""
    headers = bearer(db, "engineer")
    token = db.scalars(select(ApiToken)).one()
    assert token.last_used_at is None
    start = utcnow()
    clock = [start]
    monkeypatch.setattr(auth, "utcnow", lambda: clock[0])

    for offset, noted in ((0, 0), (30, 0), (61, 61)):
        clock[0] = start + timedelta(seconds=offset)
        assert decision(client, headers, purpose=EMAIL, email="a@example.com")["allowed"]
        db.expire_all()
        assert db.get_one(ApiToken, token.id).last_used_at == start + timedelta(seconds=noted)

    staff_service.revoke_token(db, token, actor="cli")
    db.commit()
    refused = client.get(
        "/api/v1/consent/decision",
        params={"purpose": EMAIL, "email": "a@example.com"},
        headers=headers,
    )
    assert refused.status_code == 401, refused.text


def test_a_decision_is_open_to_a_logged_in_privacy_officer_too(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    log_in_as(client, db, "privacy_officer")
    answer = client.get(
        "/api/v1/consent/decision", params={"purpose": EMAIL, "email": "a@example.com"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["allowed"] is True
