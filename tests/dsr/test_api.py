"""The JSON API: public intake, verification and status; staff routes with their permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.app import create_app
from privacyops.jobs.queue import NullJobQueue
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import VerificationCode
from privacyops.models.policy import PolicyVersion
from privacyops.notify import outbox
from privacyops.notify.mail import MemoryMailSender
from privacyops.settings import Settings
from privacyops.staff import service as staff_service
from privacyops.vault.service import Vault
from tests.dsr.support import EMAIL, counts, last_code, messages
from tests.staff.helpers import make_staff, use_fast_hashing

PROBLEM = "application/problem+json"


def mount(app: FastAPI, vault: Vault) -> FastAPI:
    """The app with mail left queued (no dispatch job), so tests read codes from the queue."""
    app.state.vault = vault
    app.state.jobs = NullJobQueue()
    return app


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def api(app: FastAPI, vault: Vault, policy: PolicyVersion) -> Iterator[TestClient]:
    with TestClient(mount(app, vault)) as client:
        yield client


def bearer(db: Session, role: str) -> dict[str, str]:
    staff = make_staff(db, role, f"{role}@example.com")
    token = staff_service.issue_token(db, staff, name="t", role=role, actor="cli")
    db.commit()
    return {"Authorization": f"Bearer {token.plaintext}"}


def create(api: TestClient, **overrides: Any) -> Response:
    body: dict[str, Any] = {"type": "access", "state": "CA", "email": EMAIL}
    body.update(overrides)
    headers = {}
    if "key" in body:
        headers["Idempotency-Key"] = body.pop("key")
    return api.post("/api/v1/requests", json=body, headers=headers)


def fields(response: Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [e["field"] for e in response.json().get("errors", [])]


def test_create_answers_201_with_the_request(api: TestClient) -> None:
    response = create(api)

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "status", "received_at", "due_at", "type", "state", "verification"}
    assert body["status"] == "awaiting_verification"
    assert body["verification"] == "standard"


def test_idempotency_key(api: TestClient, db: Session) -> None:
    first = create(api, key="k-1")
    before = counts(db)

    again = create(api, key="k-1")
    other = create(api, key="k-1", type="deletion")

    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert other.headers["content-type"] == PROBLEM
    assert counts(db) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "nope"}, "type"),
        ({"state": "XX"}, "state"),
        ({"email": "nope"}, "email"),
        ({"type": "correction"}, "corrections"),
        (
            {"type": "correction", "state": "IA", "corrections": [{"field": "a", "value": "b"}]},
            "type",
        ),
        ({"unexpected": 1}, "unexpected"),
        ({"email": 5}, "email"),
    ],
)
def test_bad_input_is_problem_json_and_stores_nothing(
    api: TestClient, db: Session, overrides: dict[str, Any], field: str
) -> None:
    before = counts(db)

    response = create(api, **overrides)

    assert response.status_code == 422
    assert field in fields(response)
    assert counts(db) == before


def test_oversized_and_malformed_bodies(api: TestClient, db: Session) -> None:
    before = counts(db)

    big = create(api, details="x" * 40_000)
    broken = api.post(
        "/api/v1/requests", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert big.status_code == 413
    assert fields(big) == ["body"]
    assert broken.status_code == 422
    assert broken.headers["content-type"] == PROBLEM
    assert counts(db) == before


def test_verify_then_read_status_with_the_token_only(
    api: TestClient, db: Session, vault: Vault
) -> None:
    request_id = create(api).json()["id"]
    code = last_code(db, vault, request_id)

    wrong = api.post(
        f"/api/v1/requests/{request_id}/verify",
        json={"code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 422
    assert fields(wrong) == ["code"]
    db.expire_all()
    row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request_id)
    ).one()
    assert row.attempts == 1  # the refused attempt was committed

    assert api.get(f"/api/v1/requests/{request_id}").status_code == 404
    ok = api.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert ok.status_code == 200, ok.text
    token = ok.json()["status_token"]
    assert ok.json()["status"] == "in_progress"
    assert ok.json()["verified"] is True

    status = api.get(f"/api/v1/requests/{request_id}", params={"token": token})
    assert status.status_code == 200
    assert status.json()["status"] == "in_progress"
    assert EMAIL not in status.text

    replay = api.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert replay.status_code == 422
    assert fields(replay) == ["code"]

    other_id = create(api, type="deletion").json()["id"]
    assert api.get(f"/api/v1/requests/{other_id}", params={"token": token}).status_code == 404
    assert (
        api.get(f"/api/v1/requests/{request_id}", params={"token": token + "x"}).status_code == 404
    )


def test_resend_too_early_is_429_with_retry_after(api: TestClient) -> None:
    request_id = create(api).json()["id"]

    response = api.post(f"/api/v1/requests/{request_id}/resend-code")

    assert response.status_code == 429
    assert response.headers["content-type"] == PROBLEM
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_public_writes_are_rate_limited(
    settings: Settings, session_factory: sessionmaker[Session], vault: Vault, policy: PolicyVersion
) -> None:
    limited = settings.model_copy(update={"rate_limit_public": "2/minute"})
    app = mount(create_app(limited, session_factory=session_factory), vault)
    with TestClient(app) as api:
        assert create(api).status_code == 201
        assert create(api).status_code == 201
        third = create(api)

    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) > 0


def test_html_mail_escapes_script_in_details(
    api: TestClient, session_factory: sessionmaker[Session], vault: Vault
) -> None:
    create(api, details='<script>alert("x")</script>')
    sender = MemoryMailSender()

    outbox.dispatch_pending(session_factory, sender, vault)

    receipt = next(m for m in sender.sent if "We received" in str(m["Subject"]))
    html = receipt.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# --- staff ---------------------------------------------------------------------------------------


def test_staff_enter_read_and_decide(api: TestClient, db: Session, vault: Vault) -> None:
    officer = bearer(db, "privacy_officer")
    entered = api.post(
        "/api/v1/admin/requests",
        json={"type": "access", "state": "CA", "email": EMAIL, "channel": "phone"},
        headers=officer,
    )
    assert entered.status_code == 201, entered.text
    request_id = entered.json()["id"]
    api.post(
        f"/api/v1/requests/{request_id}/verify", json={"code": last_code(db, vault, request_id)}
    )

    listed = api.get("/api/v1/admin/requests", params={"status": "in_progress"}, headers=officer)
    assert [r["id"] for r in listed.json()["items"]] == [request_id]
    assert listed.json()["items"][0]["channel"] == "phone"

    detail = api.get(f"/api/v1/admin/requests/{request_id}", headers=officer)
    assert detail.status_code == 200
    assert detail.json()["identities"][0]["value"] == EMAIL
    assert detail.json()["entered_by"].startswith("token:")
    viewed = db.scalars(select(AuditEvent).where(AuditEvent.action == "request.viewed")).all()
    assert [e.target for e in viewed] == [f"request:{request_id}"]

    task = api.post(
        f"/api/v1/admin/requests/{request_id}/tasks", json={"name": "shop"}, headers=officer
    )
    assert task.status_code == 201
    early = api.post(f"/api/v1/admin/requests/{request_id}/approve", headers=officer)
    assert early.status_code == 409
    assert "in_progress" in early.json()["detail"]
    done = api.post(
        f"/api/v1/admin/requests/{request_id}/tasks/{task.json()['id']}/done",
        json={"result": "exported 12 rows"},
        headers=officer,
    )
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    note = api.post(
        f"/api/v1/admin/requests/{request_id}/notes", json={"note": "ok"}, headers=officer
    )
    assert note.status_code == 201
    approved = api.post(f"/api/v1/admin/requests/{request_id}/approve", headers=officer)
    assert approved.status_code == 200
    assert approved.json()["status"] == "completed"
    assert messages(db, vault, request_id)[-1].template == "dsr_completion"

    again = api.post(f"/api/v1/admin/requests/{request_id}/cancel", headers=officer)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert "completed" in again.json()["detail"]


def test_deny_and_extend_through_the_api(api: TestClient, db: Session) -> None:
    officer = bearer(db, "privacy_officer")
    first = create(api).json()["id"]
    second = create(api, type="deletion").json()["id"]

    missing = api.post(
        f"/api/v1/admin/requests/{first}/deny", json={"reason": "exemption"}, headers=officer
    )
    bad = api.post(f"/api/v1/admin/requests/{first}/deny", json={"reason": "meh"}, headers=officer)
    denied = api.post(
        f"/api/v1/admin/requests/{first}/deny", json={"reason": "duplicate"}, headers=officer
    )
    extended = api.post(
        f"/api/v1/admin/requests/{second}/extend", json={"reason": "archives"}, headers=officer
    )

    assert missing.status_code == 422
    assert fields(missing) == ["detail"]
    assert bad.status_code == 422
    assert fields(bad) == ["body.reason"]
    assert denied.json()["status"] == "denied"
    assert extended.status_code == 200
    assert extended.json()["extended_due_at"]


def test_agents_enter_and_read_but_do_not_decide(api: TestClient, db: Session) -> None:
    agent = bearer(db, "agent")
    request_id = create(api).json()["id"]

    assert api.get(f"/api/v1/admin/requests/{request_id}", headers=agent).status_code == 200
    refused = api.post(f"/api/v1/admin/requests/{request_id}/approve", headers=agent)
    assert refused.status_code == 403
    engineer = bearer(db, "engineer")
    assert api.get("/api/v1/admin/requests", headers=engineer).status_code == 403
    assert api.get("/api/v1/admin/requests").status_code == 401


def test_staff_channel_must_be_a_staff_channel(api: TestClient, db: Session) -> None:
    officer = bearer(db, "privacy_officer")

    response = api.post(
        "/api/v1/admin/requests",
        json={"type": "access", "state": "CA", "email": EMAIL, "channel": "web"},
        headers=officer,
    )

    assert response.status_code == 422
    assert fields(response) == ["channel"]


def test_openapi_documents_the_public_bodies(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()

    create_op = document["paths"]["/api/v1/requests"]["post"]
    schema = create_op["requestBody"]["content"]["application/json"]["schema"]
    assert {"type", "state", "email", "corrections", "agent"} <= set(schema["properties"])
    assert "$ref" not in str(schema)
    assert "Idempotency-Key" in [p["name"] for p in create_op["parameters"]]
