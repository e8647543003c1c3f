"""Every staff route, every role, both ways of logging in, and no login: exactly the allowed
callers get through.

The expected table lives here, on purpose apart from the permission table it checks. A staff
route missing from it fails `test_every_staff_route_is_in_the_table`: add the new route to
EXPECTED with the roles that may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from privacyops.staff import service
from privacyops.staff.permissions import Role
from tests.staff.helpers import make_staff, use_fast_hashing

ALL = frozenset(Role)
ADMIN = frozenset({Role.admin})
REQUEST_READERS = frozenset({Role.privacy_officer, Role.agent})
REQUEST_DECIDERS = frozenset({Role.privacy_officer})
# The retailer's systems (engineers' tokens), privacy officers, and customer service (agents
# take consent choices by phone and look them up).
CONSENT_CALLERS = frozenset({Role.engineer, Role.privacy_officer, Role.agent})
# A person's consent history: staff who talk to people, not the retailer's systems.
CONSENT_HISTORY = frozenset({Role.privacy_officer, Role.agent})

# (method, path as registered) -> the roles that may use it.
EXPECTED: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/admin"): ALL,
    ("GET", "/admin/staff"): ADMIN,
    ("POST", "/admin/staff"): ADMIN,
    ("POST", "/admin/staff/{staff_id}/role"): ADMIN,
    ("POST", "/admin/staff/{staff_id}/disable"): ADMIN,
    ("POST", "/admin/staff/{staff_id}/enable"): ADMIN,
    ("GET", "/admin/account"): ALL,
    ("POST", "/admin/account/password"): ALL,
    ("POST", "/admin/account/tokens"): ALL,
    ("POST", "/admin/account/tokens/{token_id}/revoke"): ALL,
    ("GET", "/api/v1/admin/me"): ALL,
    ("GET", "/api/v1/admin/staff"): ADMIN,
    ("POST", "/api/v1/admin/staff"): ADMIN,
    ("PATCH", "/api/v1/admin/staff/{staff_id}"): ADMIN,
    ("GET", "/api/v1/admin/tokens"): ALL,
    ("POST", "/api/v1/admin/tokens"): ALL,
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): ALL,
    ("GET", "/admin/audit"): frozenset({Role.admin, Role.auditor}),
    ("GET", "/admin/audit/export"): frozenset({Role.admin, Role.auditor}),
    ("POST", "/admin/audit/subject"): frozenset({Role.admin, Role.auditor}),
    ("POST", "/admin/audit/verify"): frozenset({Role.admin, Role.auditor}),
    ("GET", "/api/v1/admin/audit"): frozenset({Role.admin, Role.auditor}),
    ("GET", "/api/v1/admin/audit/export"): frozenset({Role.admin, Role.auditor}),
    ("POST", "/api/v1/admin/audit/verify"): frozenset({Role.admin, Role.auditor}),
    # consent
    ("GET", "/api/v1/consent/decision"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/filter"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/unsubscribe-headers"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/sms"): CONSENT_CALLERS,
    ("GET", "/api/v1/consent/records/{record_id}/receipt"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/records"): CONSENT_CALLERS,
    ("GET", "/api/v1/consent/people"): CONSENT_HISTORY,
    # the console's consent pages
    ("GET", "/admin/consent"): CONSENT_HISTORY,
    ("POST", "/admin/consent"): CONSENT_HISTORY,
    ("GET", "/admin/consent/people/{subject_id}"): CONSENT_HISTORY,
    ("POST", "/admin/consent/choices"): CONSENT_HISTORY,
    # opt-outs passed on to partners: the list (consent.read), its actions (consent.record)
    ("GET", "/api/v1/consent/propagations"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/propagations/{propagation_id}/retry"): CONSENT_CALLERS,
    ("POST", "/api/v1/consent/propagations/{propagation_id}/done"): CONSENT_CALLERS,
    ("GET", "/admin/consent/propagations"): CONSENT_CALLERS,
    ("GET", "/admin/consent/propagations/{propagation_id}"): CONSENT_CALLERS,
    ("POST", "/admin/consent/propagations/{propagation_id}/retry"): CONSENT_CALLERS,
    ("POST", "/admin/consent/propagations/{propagation_id}/done"): CONSENT_CALLERS,
    # rights requests: agents enter and follow them, privacy officers decide
    ("GET", "/api/v1/admin/requests"): REQUEST_READERS,
    ("POST", "/api/v1/admin/requests"): REQUEST_READERS,
    ("GET", "/api/v1/admin/requests/{request_id}"): REQUEST_READERS,
    ("POST", "/api/v1/admin/requests/{request_id}/approve"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/deny"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/extend"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/cancel"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/notes"): REQUEST_READERS,
    ("POST", "/api/v1/admin/requests/{request_id}/tasks"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/tasks/{task_id}/done"): REQUEST_DECIDERS,
    ("PUT", "/api/v1/admin/requests/{request_id}/corrections"): REQUEST_DECIDERS,
    ("POST", "/api/v1/admin/requests/{request_id}/retry"): REQUEST_DECIDERS,
    # the console's request pages
    ("GET", "/admin/requests"): REQUEST_READERS,
    ("GET", "/admin/requests/new"): REQUEST_READERS,
    ("POST", "/admin/requests/new"): REQUEST_READERS,
    ("GET", "/admin/requests/{request_id}"): REQUEST_READERS,
    ("POST", "/admin/requests/{request_id}/approve"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/deny"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/extend"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/cancel"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/notes"): REQUEST_READERS,
    ("POST", "/admin/requests/{request_id}/tasks"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/tasks/{task_id}/done"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/retry"): REQUEST_DECIDERS,
    ("POST", "/admin/requests/{request_id}/corrections"): REQUEST_DECIDERS,
    # reports: aggregates only, for the roles with reports.read
    ("GET", "/admin/reports"): frozenset({Role.admin, Role.privacy_officer, Role.auditor}),
    ("GET", "/admin/reports/ccpa-7102"): frozenset(
        {Role.admin, Role.privacy_officer, Role.auditor}
    ),
    ("GET", "/admin/reports/ccpa-7102.csv"): frozenset(
        {Role.admin, Role.privacy_officer, Role.auditor}
    ),
    ("GET", "/api/v1/admin/reports/ccpa-7102"): frozenset(
        {Role.admin, Role.privacy_officer, Role.auditor}
    ),
}
# Staff routes open without login: you cannot be logged in to log in.
PUBLIC_STAFF_ROUTES = {("GET", "/admin/login"), ("POST", "/admin/login"), ("POST", "/admin/logout")}
# The consent API's staff-token routes sit beside its public ones (the banner's) under
# /api/v1/consent, so they are named one by one.
GUARDED = re.compile(
    r"^/(admin|api/v1/admin)(/|$)"
    r"|^/api/v1/consent/(decision|filter|unsubscribe-headers|sms|records/\{record_id\}/receipt"
    r"|records|people|propagations|propagations/\{propagation_id\}/(retry|done))$"
)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, as the app serves them."""
    found = set()
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            found |= {(method, str(ctx.path)) for method in ctx.methods or ()}
    return found


def test_every_staff_route_is_in_the_table(app: FastAPI) -> None:
    staff_routes = {r for r in routes(app) if GUARDED.match(r[1])}

    missing = sorted(staff_routes - set(EXPECTED) - PUBLIC_STAFF_ROUTES)
    stale = sorted(set(EXPECTED) - staff_routes)

    assert not missing, (
        f"staff routes missing from EXPECTED in {__file__}: {missing}. Add each with the roles "
        "that may use it, so that the route-by-role test checks it."
    )
    assert not stale, f"EXPECTED lists routes the app no longer has: {stale}"


@dataclass(frozen=True)
class Caller:
    label: str
    role: Role | None
    headers: dict[str, str]


def callers(db: Session) -> list[Caller]:
    """For each role: one logged in by session cookie, one by bearer token; and nobody."""
    found = [Caller("nobody", None, {})]
    for role in Role:
        staff = make_staff(db, role.value, f"{role.value}@example.com")
        session = service.start_session(db, staff)
        token = service.issue_token(db, staff, name="t", role=role.value, actor="cli")
        found.append(
            Caller(
                f"{role.value} by session",
                role,
                {
                    "Cookie": f"privacyops_session={session.token}",
                    "X-CSRF-Token": session.session.csrf_token,
                },
            )
        )
        found.append(
            Caller(f"{role.value} by token", role, {"Authorization": f"Bearer {token.plaintext}"})
        )
    return found


def fill(path: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def refused(response: Response, path: str) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("location", "")
    return response.status_code == 303 and location.startswith("/admin/login?next=")


def send(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Response:
    # Harmless bodies: an allowed caller may get 422 for an empty one, which still counts.
    body = {} if method in UNSAFE - {"DELETE"} else None
    return client.request(method, url, headers=headers, json=body, follow_redirects=False)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_exactly_the_allowed_roles_get_through(
    client: TestClient, db: Session, method: str, path: str
) -> None:
    everyone = callers(db)
    target = make_staff(db, "agent", "target@example.com")
    db.commit()
    url = fill(path, {"staff_id": target.id, "token_id": 2**31 - 1})

    wrong = []
    for caller in everyone:
        response = send(client, method, url, caller.headers)
        allowed = caller.role is not None and caller.role in EXPECTED[(method, path)]
        if refused(response, path) == allowed:
            wrong.append(f"{caller.label}: {response.status_code} (allowed: {allowed})")
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_nobody_gets_the_right_refusal(client: TestClient, method: str, path: str) -> None:
    response = send(client, method, fill(path, {}), {})

    if path.startswith("/api/"):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=")


def test_public_routes_answer_without_login(client: TestClient, app: FastAPI) -> None:
    # Every GET outside the staff prefixes, and the login form (its POST needs the form's
    # CSRF token: see tests/staff/test_pages.py).
    public = sorted(
        (method, path)
        for method, path in routes(app)
        if method == "GET" and (not GUARDED.match(path) or (method, path) in PUBLIC_STAFF_ROUTES)
    )
    assert ("GET", "/") in public
    assert ("GET", "/admin/login") in public

    for method, path in [*public, ("GET", "/static/site.css")]:
        response = send(client, method, fill(path, {}), {})
        assert not refused(response, path), f"{method} {path}: {response.status_code}"
