"""GET /api/v1/policy, its versions and diffs: JSON, pagination, problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privacyops.policy.api import get_today
from tests.policy.test_diff import base_data
from tests.policy.test_service import TODAY, first_version, material_data, publish

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fixed_today(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[get_today] = lambda: TODAY
    yield
    app.dependency_overrides.clear()


def two_versions(db: Session) -> None:
    first_version(db)
    publish(db, material_data(), date(2026, 12, 27))
    db.commit()


def test_policy_in_force(db: Session, client: TestClient) -> None:
    two_versions(db)
    response = client.get("/api/v1/policy")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("number", "effective_on", "material_change", "status")} == {
        "number": 1,
        "effective_on": "2026-01-15",
        "material_change": False,
        "status": "in force",
    }
    assert len(body["content_hash"]) == 64
    assert body["published_at"].endswith("Z") or body["published_at"].endswith("+00:00")
    assert body["manifest"]["title"] == base_data()["title"]
    assert body["manifest"]["cookies"]["classes"][0]["class"] == "essential"


def test_no_policy_in_force_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/policy")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "no policy version is in force on 2026-11-27"


def test_versions_list_without_manifests(db: Session, client: TestClient) -> None:
    two_versions(db)
    response = client.get("/api/v1/policy/versions", params={"limit": 1, "offset": 0})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["offset"], body["limit"]) == (2, 0, 1)
    [item] = body["items"]
    assert (item["number"], item["status"], item["material_change"]) == (2, "scheduled", True)
    assert "manifest" not in item


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"limit": "ten"}, "query.limit"),
    ],
)
def test_bad_page_is_problem_json_naming_the_field(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get("/api/v1/policy/versions", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["detail"] == f"invalid fields: {field}"
    assert [e["field"] for e in body["errors"]] == [field]


def test_one_version(db: Session, client: TestClient) -> None:
    two_versions(db)
    response = client.get("/api/v1/policy/versions/2")
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["effective_on"], body["status"]) == (2, "2026-12-27", "scheduled")
    assert [r["key"] for r in body["manifest"]["recipients"]] == ["payment_provider", "ad_partner"]


def test_missing_version_is_problem_json_naming_it(client: TestClient) -> None:
    response = client.get("/api/v1/policy/versions/9")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "policy version 9 does not exist"


def test_diff_of_two_versions(db: Session, client: TestClient) -> None:
    two_versions(db)
    response = client.get("/api/v1/policy/diff", params={"old": 1, "new": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["old"], body["new"], body["material"], body["material_count"]) == (1, 2, True, 1)
    [change] = body["changes"]
    assert change["path"] == "recipients[ad_partner]"
    assert change["description"] == "new recipient 'ad_partner' (Advertising partner)"


def test_diff_needs_both_versions(client: TestClient) -> None:
    response = client.get("/api/v1/policy/diff", params={"old": 1})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.new"]


def test_openapi_describes_read_only_typed_routes(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    policy_paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/v1/policy")}
    assert set(policy_paths) == {
        "/api/v1/policy",
        "/api/v1/policy/versions",
        "/api/v1/policy/versions/{number}",
        "/api/v1/policy/diff",
    }
    # Publishing is for staff and is not exposed yet.
    assert all(set(ops) == {"get"} for ops in policy_paths.values())
    ok = policy_paths["/api/v1/policy"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/PolicyVersionOut"}
    assert "PolicyManifest" in spec["components"]["schemas"]
