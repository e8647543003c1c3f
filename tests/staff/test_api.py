"""Staff API: me, staff accounts, own tokens; bearer tokens act with their scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.models.staff import ApiToken, StaffMember
from privacyops.staff import service
from tests.staff.helpers import PASSWORD, events, make_staff


def bearer(db: Session, role: str, scope: str | None = None) -> dict[str, str]:
    staff = make_staff(db, role)
    issued = service.issue_token(db, staff, name="test", role=scope or role, actor="cli")
    db.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def test_no_credentials_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/admin/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["title"] == "Authentication required"


@pytest.mark.parametrize("header", ["Bearer pops_madeup", "Basic YWRtaW46YWRtaW4=", "Bearer"])
def test_bad_credentials_are_a_401(client: TestClient, header: str) -> None:
    assert client.get("/api/v1/admin/me", headers={"Authorization": header}).status_code == 401


def test_me_shows_the_scope_a_token_acts_with(client: TestClient, db: Session) -> None:
    headers = bearer(db, "admin", scope="auditor")

    body = client.get("/api/v1/admin/me", headers=headers).json()

    assert body["staff"]["email"] == "admin@example.com"
    assert body["staff"]["role"] == "admin"
    assert (body["role"], body["via"]) == ("auditor", "token")
    assert "staff.read" not in body["permissions"]
    assert "audit.read" in body["permissions"]
    # The auditor-scoped token of an admin is refused what auditors are refused, and recorded.
    denied = client.get("/api/v1/admin/staff", headers=headers)
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    [event] = events(db, "access.denied")
    assert event.actor.startswith("token:")
    assert event.details == {"permission": "staff.read", "role": "auditor"}


def test_admin_lists_creates_and_changes_staff(client: TestClient, db: Session) -> None:
    headers = bearer(db, "admin")

    created = client.post(
        "/api/v1/admin/staff",
        headers=headers,
        json={"email": "New@Example.com", "password": PASSWORD, "role": "agent"},
    )
    assert created.status_code == 201
    assert created.json()["email"] == "new@example.com"
    assert PASSWORD not in created.text
    new_id = created.json()["id"]

    listed = client.get("/api/v1/admin/staff?limit=1&offset=1", headers=headers).json()
    assert listed["total"] == 2
    assert [s["email"] for s in listed["items"]] == ["new@example.com"]
    assert len(events(db, "staff.listed")) == 1

    changed = client.patch(
        f"/api/v1/admin/staff/{new_id}", headers=headers, json={"role": "auditor", "active": False}
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["active"]) == ("auditor", False)
    assert [e.action for e in events(db)][-2:] == ["staff.role_changed", "staff.disabled"]


def test_create_with_a_weak_password_names_the_field(client: TestClient, db: Session) -> None:
    headers = bearer(db, "admin")

    response = client.post(
        "/api/v1/admin/staff",
        headers=headers,
        json={"email": "x@example.com", "password": "short", "role": "agent"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert "short" not in response.json()["detail"]


def test_patch_unknown_staff_is_404(client: TestClient, db: Session) -> None:
    headers = bearer(db, "admin")
    assert client.patch("/api/v1/admin/staff/999", headers=headers, json={}).status_code == 404


def test_tokens_are_own_shown_once_and_revocable(client: TestClient, db: Session) -> None:
    headers = bearer(db, "privacy_officer")

    created = client.post(
        "/api/v1/admin/tokens", headers=headers, json={"name": "reports", "role": "agent"}
    )
    assert created.status_code == 201
    plaintext = created.json()["token"]
    assert plaintext.startswith("pops_")
    token_id = created.json()["id"]
    listed = client.get("/api/v1/admin/tokens", headers=headers)
    assert plaintext not in listed.text
    assert [t["name"] for t in listed.json()["items"]] == ["test", "reports"]

    new = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/admin/me", headers=new).json()["role"] == "agent"
    # A token may not mint a token above its own scope.
    above = client.post(
        "/api/v1/admin/tokens", headers=new, json={"name": "x", "role": "privacy_officer"}
    )
    assert above.status_code == 422
    assert above.json()["errors"][0]["field"] == "role"

    assert client.delete(f"/api/v1/admin/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/admin/me", headers=new).status_code == 401
    stored = db.scalars(select(ApiToken)).all()
    assert all(plaintext not in (t.token_hash, t.prefix) for t in stored)


def test_others_tokens_cannot_be_revoked(client: TestClient, db: Session) -> None:
    mine = bearer(db, "agent")
    other = make_staff(db, "auditor")
    theirs = service.issue_token(db, other, name="x", role="auditor", actor="cli")
    db.commit()

    response = client.delete(f"/api/v1/admin/tokens/{theirs.token.id}", headers=mine)

    assert response.status_code == 404
    assert theirs.token.revoked_at is None


def test_token_scope_above_the_owner_is_refused(client: TestClient, db: Session) -> None:
    headers = bearer(db, "engineer")
    response = client.post(
        "/api/v1/admin/tokens", headers=headers, json={"name": "x", "role": "admin"}
    )
    assert response.status_code == 422
    assert db.scalars(select(StaffMember)).one().role == "engineer"
