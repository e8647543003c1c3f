"""Login, logout and the dashboard through the app: cookies, CSRF, redirects, rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from privacyops.app import create_app
from privacyops.models.staff import StaffSession
from privacyops.settings import Settings
from privacyops.staff import service
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, require
from tests.staff.helpers import PASSWORD, FakeLimiter, events, log_in, login_csrf, make_staff

pytestmark = pytest.mark.usefixtures("limiter")


@pytest.fixture
def agent(db: Session) -> str:
    make_staff(db, "agent")
    db.commit()
    return "agent@example.com"


def cookie_attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def session_cookie(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    [cookie] = [h for h in headers if h.startswith("privacyops_session=")]
    return str(cookie)


def test_login_sets_an_httponly_lax_session_cookie_and_goes_to_next(
    client: TestClient, agent: str
) -> None:
    response = log_in(client, agent, next="/admin?tab=1")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin?tab=1"
    cookie = session_cookie(response)
    assert cookie_attributes(cookie) == {"httponly", "path", "samesite"}
    assert "SameSite=lax" in cookie
    assert "Path=/;" in cookie + ";"
    page = client.get("/admin")
    assert page.status_code == 200
    assert "agent@example.com" in page.text
    assert "<code>agent</code>" in page.text
    assert "Enter rights requests received by mail or phone" in page.text


def test_cookie_is_secure_behind_https(
    settings: Settings, session_factory: sessionmaker[Session], db: Session, agent: str
) -> None:
    https = settings.model_copy(update={"public_url": "https://privacy.example.com"})
    app = create_app(https, session_factory=session_factory)
    app.state.login_limiter = FakeLimiter()
    with TestClient(app, base_url="https://testserver") as secure_client:
        response = log_in(secure_client, agent)

    assert response.status_code == 303
    assert "secure" in cookie_attributes(session_cookie(response))


def test_wrong_password_and_unknown_email_read_the_same(client: TestClient, agent: str) -> None:
    wrong = log_in(client, agent, password="not the password at all")
    unknown = log_in(client, "nobody@example.com")

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
        assert "privacyops_session=" not in response.headers.get("set-cookie", "")
    assert wrong.text.replace(agent, "X") == unknown.text.replace("nobody@example.com", "X")


def test_locked_account_says_when_to_retry(
    client: TestClient, agent: str, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        response = log_in(client, agent, password="not the password at all")

    assert "Try again after" in response.text
    right = log_in(client, agent)
    assert right.status_code == 401
    assert "Try again after" in right.text


@pytest.mark.parametrize("token", [None, "", "forged", "wrong-signature.abc.def"])
def test_login_without_the_right_csrf_token_is_refused(
    client: TestClient, agent: str, db: Session, token: str | None
) -> None:
    login_csrf(client)  # the browser has the cookie; the form lacks the matching value
    data = {"email": agent, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token

    response = client.post("/admin/login", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert events(db, "staff.login") == []


def test_login_csrf_cookie_must_match_the_form(client: TestClient, agent: str) -> None:
    token = login_csrf(client)
    client.cookies.clear()

    response = client.post(
        "/admin/login",
        data={"email": agent, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/",
        "//evil.example.com/admin",
        "/\\evil.example.com",
        "javascript:alert(1)",
        "admin",
        "/admin\r\nLocation: https://evil.example.com",
    ],
)
def test_next_is_never_another_site(client: TestClient, agent: str, target: str) -> None:
    response = log_in(client, agent, next=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


def test_pages_send_people_to_login_and_back(client: TestClient, agent: str) -> None:
    first = client.get("/admin?x=1", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/admin/login?next=/admin%3Fx%3D1"

    form = client.get(first.headers["location"])
    assert 'name="next" value="/admin?x=1"' in form.text
    response = log_in(client, agent, next="/admin?x=1")
    assert response.headers["location"] == "/admin?x=1"


def test_login_is_rate_limited_per_address(
    client: TestClient, app: FastAPI, agent: str, db: Session
) -> None:
    app.state.login_limiter = FakeLimiter(limit=2, retry_after=17)
    log_in(client, agent, password="wrong password one")
    log_in(client, agent, password="wrong password two")

    refused = log_in(client, agent)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "17"
    assert "Try again in 17 seconds" in refused.text
    assert app.state.login_limiter.hits == [("login:testclient", "10/minute")] * 3
    assert len(events(db, "staff.login_failed")) == 2  # the refused one was not even tried


def test_the_real_limiter_refuses_with_retry_after(
    settings: Settings, session_factory: sessionmaker[Session], db: Session, agent: str
) -> None:
    strict = settings.model_copy(update={"rate_limit_login": "2/minute"})
    with TestClient(create_app(strict, session_factory=session_factory)) as fresh:
        statuses = [log_in(fresh, agent, password="wrong password!!").status_code for _ in range(3)]
        last = log_in(fresh, agent)

    assert statuses == [401, 401, 429]
    assert last.status_code == 429
    assert 0 < int(last.headers["retry-after"]) <= 60


def test_logout_needs_the_csrf_token_then_ends_the_session(
    client: TestClient, agent: str, db: Session
) -> None:
    log_in(client, agent)
    page = client.get("/admin")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    refused = client.post("/admin/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/admin", follow_redirects=False).status_code == 200

    done = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/login"
    assert 'privacyops_session=""' in done.headers["set-cookie"]
    assert client.get("/admin", follow_redirects=False).status_code == 303
    assert len(events(db, "staff.logout")) == 1
    assert all(s.ended_at is not None for s in db.query(StaffSession))


def test_a_logged_in_visit_to_the_login_page_goes_on(client: TestClient, agent: str) -> None:
    log_in(client, agent)
    response = client.get("/admin/login?next=/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


def test_session_post_without_csrf_is_refused_before_anything_happens(
    client: TestClient, db: Session
) -> None:
    make_staff(db, "admin")
    db.commit()
    log_in(client, "admin@example.com")
    body = {"email": "new@example.com", "password": PASSWORD, "role": "agent"}

    missing = client.post("/api/v1/admin/staff", json=body)
    wrong = client.post("/api/v1/admin/staff", json=body, headers={"X-CSRF-Token": "nope"})

    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    me = client.get("/api/v1/admin/me")
    assert me.status_code == 200
    session = db.query(StaffSession).one()
    ok = client.post("/api/v1/admin/staff", json=body, headers={"X-CSRF-Token": session.csrf_token})
    assert ok.status_code == 201


# --- refuse by default ------------------------------------------------------------------------


@pytest.fixture
def app_with_officer_page(
    settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    router = AdminRouter()

    @router.get("/admin/officers-only")
    def officers_only(
        principal: Annotated[Principal, require(Permission.requests_decide)],
    ) -> dict[str, str]:
        return {"ok": principal.role}

    app = create_app(settings, session_factory=session_factory)
    app.include_router(router)
    with TestClient(app) as test_client:
        yield test_client


def test_a_page_the_role_may_not_open_is_an_html_403_and_recorded(
    app_with_officer_page: TestClient, db: Session
) -> None:
    agent = make_staff(db, "agent")
    issued = service.start_session(db, agent)
    db.commit()
    app_with_officer_page.cookies.set("privacyops_session", issued.token)

    response = app_with_officer_page.get("/admin/officers-only")

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "not open to your role" in response.text
    # The refusal keeps staff inside the console, with a way back to it.
    assert '<a href="/admin">Back to the staff console</a>' in response.text
    assert '<a class="brand" href="/admin">Staff console</a>' in response.text
    [event] = events(db, "access.denied")
    assert (event.actor, event.target) == (f"staff:{agent.id}", "GET /admin/officers-only")
    assert event.details == {"permission": "requests.decide", "role": "agent"}


def test_admin_router_refuses_a_route_without_a_permission() -> None:
    router = AdminRouter()

    with pytest.raises(RuntimeError, match="GET /admin/forgotten"):

        @router.get("/admin/forgotten")
        def forgotten() -> None: ...


def test_create_app_refuses_an_unguarded_staff_route_from_any_router(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    from fastapi import APIRouter

    from privacyops.web.auth import assert_admin_routes_guarded

    app = create_app(settings, session_factory=session_factory)
    plain = APIRouter(prefix="/api/v1/admin")

    @plain.delete("/everything")
    def everything() -> None: ...

    app.include_router(plain)
    with pytest.raises(RuntimeError, match="DELETE /api/v1/admin/everything"):
        assert_admin_routes_guarded(app)
