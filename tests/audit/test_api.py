"""The audit admin API: search, export and verify, with their refusals and problems."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from privacyops.audit import verify as verify_module
from privacyops.audit.actions import AuditAction
from privacyops.audit.schemas import BreakProblem
from privacyops.audit.service import record
from tests.audit.websupport import SUBJECT, bearer, events_of, seed, tamper
from tests.staff.helpers import use_fast_hashing

URL = "/api/v1/admin/audit"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def auditor(db: Session) -> dict[str, str]:
    return bearer(db, "auditor")


@pytest.fixture
def seqs(db: Session, auditor: dict[str, str]) -> list[int]:
    return seed(db)


def found(client: TestClient, headers: dict[str, str], **query: object) -> list[int]:
    response = client.get(URL, headers=headers, params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [item["seq"] for item in body["items"]]


def test_search_filters_and_combines(
    client: TestClient, auditor: dict[str, str], seqs: list[int]
) -> None:
    def expect(*indexes: int) -> list[int]:
        return [seqs[i] for i in indexes]

    assert found(client, auditor, actor="staff:901") == expect(4, 2, 1)
    assert found(client, auditor, action="staff.role_changed") == expect(2)
    assert found(client, auditor, action="staff.", date_to="2026-01-31") == expect(4, 2, 1, 0)
    assert found(client, auditor, action="staff.*", date_to="2026-01-31") == expect(4, 2, 1, 0)
    assert found(client, auditor, subject=SUBJECT) == expect(3)
    assert found(client, auditor, target="policy:2") == expect(6)
    assert found(client, auditor, date_from="2026-01-11", date_to="2026-01-11") == expect(3, 2)
    assert found(
        client, auditor, actor="staff:901", action="staff.", date_from="2026-01-11"
    ) == expect(4, 2)


def test_search_pages_and_shape(
    client: TestClient, db: Session, auditor: dict[str, str], seqs: list[int]
) -> None:
    response = client.get(
        URL, headers=auditor, params={"date_to": "2026-01-31", "offset": 2, "limit": 3}
    )

    body = response.json()
    assert (body["total"], body["offset"], body["limit"]) == (7, 2, 3)
    assert [item["seq"] for item in body["items"]] == [seqs[4], seqs[3], seqs[2]]
    item = body["items"][1]
    assert item["at"].startswith("2026-01-11T23:59:59")
    assert (item["actor"], item["action"], item["subject"]) == (
        "staff:902",
        "subject.viewed",
        SUBJECT,
    )
    assert set(item) == {
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "target",
        "client",
        "details",
        "prev_hash",
        "hash",
    }
    [viewed] = events_of(db, "audit.viewed")
    assert viewed.actor.startswith("token:")
    assert viewed.details == {"date_to": "2026-01-31", "offset": 2, "shown": 3, "via": "api"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-02-30"}, "query.date_from"),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "date_to"),
        ({"subject": "not-a-hash"}, "query.subject"),
        ({"action": "Staff Created"}, "query.action"),
        ({"actor": "x" * 201}, "query.actor"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"offset": -1}, "query.offset"),
    ],
)
def test_bad_values_are_a_422_problem_naming_the_field(
    client: TestClient, db: Session, auditor: dict[str, str], query: dict[str, object], field: str
) -> None:
    response = client.get(URL, headers=auditor, params=query)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not events_of(db, "audit.viewed")


@pytest.mark.parametrize("role", ["agent", "engineer", "privacy_officer"])
def test_roles_without_the_permission_are_refused(
    client: TestClient, db: Session, role: str
) -> None:
    headers = bearer(db, role)

    for response in (
        client.get(URL, headers=headers),
        client.get(f"{URL}/export", headers=headers),
        client.post(f"{URL}/verify", headers=headers),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert len(events_of(db, "access.denied")) == 3


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admins_and_auditors_are_allowed(client: TestClient, db: Session, role: str) -> None:
    headers = bearer(db, role)

    assert client.get(URL, headers=headers).status_code == 200
    assert client.get(f"{URL}/export", headers=headers).status_code == 200
    assert client.post(f"{URL}/verify", headers=headers).status_code == 200


def test_no_credentials_is_a_401(client: TestClient) -> None:
    response = client.get(URL, params={"date_from": "garbage"})
    # Refused before the query is even looked at.
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_export_matches_the_search_and_is_recorded(
    client: TestClient, db: Session, auditor: dict[str, str], seqs: list[int]
) -> None:
    query = {"actor": "staff:901", "date_from": "2026-01-10"}
    searched = found(client, auditor, **query)

    response = client.get(f"{URL}/export", headers=auditor, params=query)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"].startswith("attachment; filename=audit-")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["seq"] for line in lines] == searched[::-1]
    listed = client.get(URL, headers=auditor, params=query).json()["items"]
    by_seq = {item["seq"]: item for item in listed}
    for line in lines:
        assert line["hash"] == by_seq[line["seq"]]["hash"]
        assert line["details"] == by_seq[line["seq"]]["details"]
    [exported] = events_of(db, "audit.exported")
    assert exported.actor.startswith("token:")
    assert exported.details == {**query, "events": 3, "to": "api"}


def test_export_streams_in_chunks_without_losing_events(
    client: TestClient, db: Session, auditor: dict[str, str]
) -> None:
    for n in range(1201):
        record(db, AuditAction.staff_listed, actor="bulk", details={"n": n})
    db.commit()

    response = client.get(f"{URL}/export", headers=auditor, params={"actor": "bulk"})

    numbers = [json.loads(line)["details"]["n"] for line in response.text.splitlines()]
    assert numbers == list(range(1201))


def test_export_with_a_bad_filter_is_a_422_and_not_recorded(
    client: TestClient, db: Session, auditor: dict[str, str]
) -> None:
    response = client.get(
        f"{URL}/export",
        headers=auditor,
        params={"date_from": "2026-03-01", "date_to": "2026-01-01"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_to"
    assert not events_of(db, "audit.exported")


def chain(db: Session, count: int = 6) -> list[int]:
    seqs = [
        record(db, AuditAction.staff_login, actor=f"staff:{n}", details={"n": n}).seq
        for n in range(count)
    ]
    db.commit()
    return seqs


def test_verify_an_intact_chain(client: TestClient, db: Session, auditor: dict[str, str]) -> None:
    chain(db)

    response = client.post(f"{URL}/verify", headers=auditor)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["broken"] is None
    [verified] = events_of(db, "audit.verified")
    assert body["checked"] == verified.seq - 1
    assert verified.details == {"events": body["checked"]}


def test_verify_reports_an_edited_row(
    client: TestClient, db: Session, auditor: dict[str, str]
) -> None:
    edited = chain(db)[2]
    tamper(db, edited)

    body = client.post(f"{URL}/verify", headers=auditor).json()

    assert body["ok"] is False
    assert body["checked"] == edited - 1
    assert body["broken"]["seq"] == edited
    assert body["broken"]["problem"] == "edited"
    assert body["broken"]["message"] == (
        f"event {edited} was edited: its hash does not match its content"
    )
    assert not events_of(db, "audit.verified")


def test_verify_reports_a_deleted_row(
    client: TestClient, db: Session, auditor: dict[str, str]
) -> None:
    deleted = chain(db)[3]
    db.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": deleted})
    db.commit()

    body = client.post(f"{URL}/verify", headers=auditor).json()

    assert (body["ok"], body["broken"]["seq"]) == (False, deleted)
    assert body["broken"]["problem"] == "missing"
    assert body["broken"]["id"] is None


def test_break_kinds_match_the_verifier() -> None:
    assert get_args(BreakProblem) == get_args(verify_module.Problem)


def test_openapi_describes_the_audit_routes(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]

    listed = paths[URL]["get"]
    assert listed["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuditEventList"
    }
    params = {p["name"]: p for p in listed["parameters"]}
    assert {
        "actor",
        "action",
        "subject",
        "target",
        "date_from",
        "date_to",
        "offset",
        "limit",
    } <= set(params)
    export = paths[f"{URL}/export"]["get"]["responses"]["200"]["content"]
    assert export["application/x-ndjson"]["schema"] == {
        "$ref": "#/components/schemas/AuditEventOut"
    }
    verified = paths[f"{URL}/verify"]["post"]["responses"]["200"]["content"]["application/json"]
    assert verified["schema"] == {"$ref": "#/components/schemas/VerifyOut"}
    assert set(spec["components"]["schemas"]["VerifyOut"]["properties"]) == {
        "ok",
        "checked",
        "broken",
    }
