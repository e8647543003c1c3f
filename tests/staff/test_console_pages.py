"""The staff-management and account pages through the app: forms, CSRF, post-redirect-get,
field errors, the last-admin refusal, own password and API tokens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.models.staff import ApiToken, StaffMember, StaffSession
from privacyops.staff import passwords, service
from privacyops.staff.permissions import Role
from tests.staff.helpers import PASSWORD, FakeLimiter, events, log_in, make_staff

pytestmark = pytest.mark.usefixtures("limiter")

NEW_PASSWORD = "a much longer passphrase 2"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def logged_in(client: TestClient, db: Session, role: str = "admin") -> tuple[StaffMember, str]:
    """A staff member of `role`, logged in on `client`; returns them and their CSRF token."""
    staff = make_staff(db, role)
    db.commit()
    assert log_in(client, staff.email).status_code == 303  # type: ignore[attr-defined]
    return staff, csrf_of(client.get("/admin").text)


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)</span>', html)
    assert match is not None, f"no error next to {field}"
    return match.group(1)


def post(client: TestClient, path: str, data: dict[str, str], token: str | None) -> Response:
    body = dict(data) if token is None else {**data, "csrf_token": token}
    response: Response = client.post(path, data=body, follow_redirects=False)
    return response


# --- who may open what ------------------------------------------------------------------------


def test_admin_sees_the_staff_table_and_the_view_is_recorded(
    client: TestClient, db: Session
) -> None:
    admin, _ = logged_in(client, db)
    make_staff(db, "agent")
    db.commit()

    page = client.get("/admin/staff")

    assert page.status_code == 200
    for text in ("admin@example.com", "agent@example.com", "<code>agent</code>", "Last login"):
        assert text in page.text
    assert 'aria-current="page">Staff</a>' in page.text
    assert 'action="/admin/staff#create-heading"' in page.text  # the create form
    [listed] = events(db, "staff.listed")
    assert listed.actor == f"staff:{admin.id}"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin])
def test_other_roles_are_refused_the_staff_page_but_open_their_account(
    client: TestClient, db: Session, role: Role
) -> None:
    staff, _ = logged_in(client, db, role.value)

    refused = client.get("/admin/staff")
    account = client.get("/admin/account")

    assert refused.status_code == 403
    assert "not open to your role" in refused.text
    assert events(db, "staff.listed") == []
    assert account.status_code == 200
    assert staff.email in account.text
    assert f"<code>{role.value}</code>" in account.text


def test_nobody_is_sent_to_login(client: TestClient) -> None:
    for path in ("/admin/staff", "/admin/account"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/login?next={path}"


def test_navigation_and_dashboard_show_only_what_the_role_may_open(
    client: TestClient, db: Session
) -> None:
    logged_in(client, db, "admin")
    admin_page = client.get("/admin").text
    for href in ('href="/admin/staff"', 'href="/admin/audit"', 'href="/admin/account"'):
        assert admin_page.count(href) == 2  # in the navigation and on a dashboard card

    client.cookies.clear()
    logged_in(client, db, "agent")
    agent_page = client.get("/admin").text
    assert "/admin/staff" not in agent_page
    assert "/admin/audit" not in agent_page
    assert agent_page.count('href="/admin/account"') == 2


# --- creating staff ---------------------------------------------------------------------------

GOOD = {
    "email": "New.Agent@example.com",
    "display_name": "New Agent",
    "role": "agent",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}


def test_create_staff_through_the_form(client: TestClient, db: Session) -> None:
    admin, token = logged_in(client, db)

    response = post(client, "/admin/staff", GOOD, token)

    assert response.status_code == 303
    created = db.scalars(select(StaffMember).where(StaffMember.email == "new.agent@example.com"))
    staff = created.one()
    assert (staff.role, staff.display_name, staff.active) == ("agent", "New Agent", True)
    assert passwords.verify(staff.password_hash, PASSWORD)
    location = response.headers["location"]
    assert location == f"/admin/staff?done=created&id={staff.id}#main"  # the top, not the form
    page = client.get(location)
    assert "Created new.agent@example.com with the role agent." in page.text
    [event] = [e for e in events(db, "staff.created") if e.target == f"staff:{staff.id}"]
    assert event.actor == f"staff:{admin.id}"
    assert event.details == {"role": "agent"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": ""}, "email", "Enter an email address"),
        ({"email": "not-an-address"}, "email", "Not an email address"),
        ({"role": ""}, "role", "Choose a role"),
        ({"role": "boss"}, "role", "Must be one of: admin, privacy_officer, agent, engineer"),
        ({"password": "", "password_confirm": ""}, "password", "Enter a password"),
        ({"password": "short", "password_confirm": "short"}, "password", "Must be at least 12"),
        (
            {"password": "new.agent@example.com", "password_confirm": "new.agent@example.com"},
            "password",
            "Must not be the email address",
        ),
        ({"password_confirm": PASSWORD + "!"}, "password_confirm", "Does not match the password"),
        ({"display_name": "x" * 201}, "display_name", "Must be at most 200 characters"),
    ],
)
def test_create_form_errors_are_shown_next_to_the_field(
    client: TestClient, db: Session, change: dict[str, str], field: str, message: str
) -> None:
    _, token = logged_in(client, db)

    response = post(client, "/admin/staff", {**GOOD, **change}, token)

    assert response.status_code == 422
    html = response.text
    assert field_error(html, field).startswith(message)
    assert f'id="{field}" name="{field}"' in html
    assert 'aria-invalid="true"' in html
    assert "Please correct" in html
    if field != "email":
        assert f'value="{GOOD["email"]}"' in html  # what was typed is kept ...
    assert PASSWORD not in html  # ... except passwords
    assert [s.email for s in db.scalars(select(StaffMember))] == ["admin@example.com"]


def test_several_errors_at_once(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)

    response = post(
        client, "/admin/staff", {"email": "nope", "role": "", "password": "short"}, token
    )

    html = response.text
    assert field_error(html, "email") == "Not an email address"
    assert field_error(html, "role") == "Choose a role"
    assert field_error(html, "password") == "Must be at least 12 characters"
    assert field_error(html, "password_confirm") == "Does not match the password"


def test_an_existing_email_is_refused_on_the_email_field(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)

    response = post(client, "/admin/staff", {**GOOD, "email": "ADMIN@example.com"}, token)

    assert response.status_code == 422
    message = field_error(response.text, "email")
    assert message == "A staff member with this email already exists"


@pytest.mark.parametrize("token", [None, "wrong"])
def test_create_without_the_csrf_token_is_refused(
    client: TestClient, db: Session, token: str | None
) -> None:
    logged_in(client, db)

    response = post(client, "/admin/staff", GOOD, token)

    assert response.status_code == 403
    assert "expired or was not sent from this site" in response.text
    assert [s.email for s in db.scalars(select(StaffMember))] == ["admin@example.com"]


def test_names_are_escaped(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)
    evil = "<script>alert('x')</script>"

    post(client, "/admin/staff", {**GOOD, "display_name": evil}, token)
    page = client.get("/admin/staff")

    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text


# --- changing staff ---------------------------------------------------------------------------


def test_change_a_role_through_the_form(client: TestClient, db: Session) -> None:
    admin, token = logged_in(client, db)
    agent = make_staff(db, "agent")
    agent_session = service.start_session(db, agent)
    db.commit()

    response = post(client, f"/admin/staff/{agent.id}/role", {"role": "auditor"}, token)

    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "agent@example.com now has the role auditor. Their sessions have ended." in page.text
    db.refresh(agent)
    assert agent.role == "auditor"
    db.refresh(agent_session.session)
    assert agent_session.session.ended_at is not None
    [event] = events(db, "staff.role_changed")
    assert (event.actor, event.target) == (f"staff:{admin.id}", f"staff:{agent.id}")


def test_an_unknown_role_is_refused_next_to_the_account(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)
    agent = make_staff(db, "agent")
    db.commit()

    response = post(client, f"/admin/staff/{agent.id}/role", {"role": "boss"}, token)

    assert response.status_code == 422
    assert "Not changed: agent@example.com. Must be one of" in response.text
    db.refresh(agent)
    assert agent.role == "agent"


def test_disable_and_enable_through_the_form(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)
    agent = make_staff(db, "agent")
    db.commit()

    disabled = post(client, f"/admin/staff/{agent.id}/disable", {}, token)
    page = client.get(disabled.headers["location"])

    assert "Disabled agent@example.com." in page.text
    assert f'action="/admin/staff/{agent.id}/enable"' in page.text
    db.refresh(agent)
    assert agent.active is False
    client.cookies.clear()
    assert log_in(client, agent.email).status_code == 401  # type: ignore[attr-defined]
    assert log_in(client, "admin@example.com").status_code == 303  # type: ignore[attr-defined]
    token = csrf_of(client.get("/admin").text)

    enabled = post(client, f"/admin/staff/{agent.id}/enable", {}, token)

    assert "Enabled agent@example.com." in client.get(enabled.headers["location"]).text
    db.refresh(agent)
    assert agent.active is True
    changes = [e.action for e in events(db) if e.target == f"staff:{agent.id}"]
    assert changes == ["staff.created", "staff.disabled", "staff.login_failed", "staff.enabled"]


@pytest.mark.parametrize(
    ("action", "data"), [("disable", {}), ("role", {"role": "agent"})], ids=["disable", "demote"]
)
def test_the_last_admin_cannot_be_disabled_or_demoted(
    client: TestClient, db: Session, action: str, data: dict[str, str]
) -> None:
    admin, token = logged_in(client, db)

    response = post(client, f"/admin/staff/{admin.id}/{action}", data, token)

    assert response.status_code == 409
    message = (
        "Not changed: admin@example.com. This is the last active admin; make another admin first."
    )
    assert message in response.text
    db.refresh(admin)
    assert (admin.active, admin.role) == (True, "admin")
    assert client.get("/admin/staff").status_code == 200  # still logged in


def test_changing_an_unknown_account_is_a_404_page(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db)

    response = post(client, "/admin/staff/999999/disable", {}, token)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


# --- your password ----------------------------------------------------------------------------


def change_password(
    client: TestClient, token: str | None, current: str, new: str, again: str
) -> Response:
    data = {"current_password": current, "new_password": new, "new_password_confirm": again}
    return post(client, "/admin/account/password", data, token)


def test_change_own_password_ends_the_other_sessions_only(client: TestClient, db: Session) -> None:
    agent, token = logged_in(client, db, "agent")
    elsewhere = service.start_session(db, agent)
    db.commit()

    response = change_password(client, token, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/account?done=password#main"
    page = client.get("/admin/account")
    assert page.status_code == 200  # this browser goes on, in a new session
    assert (
        "Your password was changed. Your other sessions have ended."
        in client.get("/admin/account?done=password").text
    )
    db.refresh(elsewhere.session)
    assert elsewhere.session.ended_at is not None
    live = db.scalars(select(StaffSession).where(StaffSession.ended_at.is_(None))).all()
    assert len(live) == 1
    db.refresh(agent)
    assert passwords.verify(agent.password_hash, NEW_PASSWORD)
    [event] = events(db, "staff.password_changed")
    assert (event.actor, event.target) == (f"staff:{agent.id}", f"staff:{agent.id}")


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        ("not my password!", NEW_PASSWORD, NEW_PASSWORD, "current_password", "Is not your"),
        ("", NEW_PASSWORD, NEW_PASSWORD, "current_password", "Enter your current password"),
        (PASSWORD, "short", "short", "new_password", "Must be at least 12 characters"),
        (PASSWORD, NEW_PASSWORD, "something else", "new_password_confirm", "Does not match"),
    ],
)
def test_password_change_errors(
    client: TestClient,
    db: Session,
    current: str,
    new: str,
    again: str,
    field: str,
    message: str,
) -> None:
    agent, token = logged_in(client, db, "agent")

    response = change_password(client, token, current, new, again)

    assert response.status_code == 422
    assert field_error(response.text, field).startswith(message)
    db.refresh(agent)
    assert passwords.verify(agent.password_hash, PASSWORD)
    assert events(db, "staff.password_changed") == []
    assert client.get("/admin/account").status_code == 200  # still logged in


def test_password_change_without_csrf_is_refused(client: TestClient, db: Session) -> None:
    agent, _ = logged_in(client, db, "agent")

    response = change_password(client, None, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 403
    db.refresh(agent)
    assert passwords.verify(agent.password_hash, PASSWORD)


# --- your API tokens --------------------------------------------------------------------------


def test_a_token_is_shown_once_works_and_stops_when_revoked(
    client: TestClient, db: Session
) -> None:
    admin, token = logged_in(client, db, "admin")

    created = post(client, "/admin/account/tokens", {"name": "nightly", "role": "auditor"}, token)

    assert created.status_code == 201
    html = created.text
    match = re.search(r'id="token-value"[^>]* value="(pops_[^"]+)"', html)
    assert match is not None
    plaintext = match.group(1)
    assert "shown this once and never again" in html
    stored = db.scalars(select(ApiToken)).one()
    assert (stored.name, stored.role, stored.staff_id) == ("nightly", "auditor", admin.id)
    assert stored.token_hash == service.digest(plaintext)
    assert plaintext not in str(stored.__dict__)

    listing = client.get("/admin/account").text
    assert plaintext not in listing
    assert f"<code>{stored.prefix}…</code>" in listing
    assert "nightly" in listing

    bearer = {"Authorization": f"Bearer {plaintext}"}
    me = client.get("/api/v1/admin/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["role"] == "auditor"

    revoked = post(client, f"/admin/account/tokens/{stored.id}/revoke", {}, token)
    assert revoked.status_code == 303
    after = client.get(revoked.headers["location"]).text
    assert f"Revoked the API token “nightly” ({stored.prefix}…)." in after
    assert "Revoked <time" in after
    assert client.get("/api/v1/admin/me", headers=bearer).status_code == 401
    assert [e.action for e in events(db) if e.target == f"token:{stored.id}"] == [
        "token.created",
        "token.revoked",
    ]


def test_token_scopes_stay_within_the_role(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db, "agent")

    page = client.get("/admin/account").text
    options = re.findall(r'<option value="([^"]*)"', page)
    refused = post(client, "/admin/account/tokens", {"name": "x", "role": "admin"}, token)

    assert options == ["agent"]
    assert refused.status_code == 422
    message = field_error(refused.text, "role")
    assert message == "Admin exceeds the permissions of agent"
    assert db.scalars(select(ApiToken)).all() == []


def test_a_token_needs_a_name(client: TestClient, db: Session) -> None:
    _, token = logged_in(client, db, "agent")

    response = post(client, "/admin/account/tokens", {"name": "  ", "role": "agent"}, token)

    assert response.status_code == 422
    assert field_error(response.text, "name") == "Enter a name"


def test_nobody_revokes_someone_elses_token(client: TestClient, db: Session) -> None:
    other = make_staff(db, "auditor")
    theirs = service.issue_token(db, other, name="theirs", role="auditor", actor="cli")
    _, token = logged_in(client, db, "admin")

    response = post(client, f"/admin/account/tokens/{theirs.token.id}/revoke", {}, token)

    assert response.status_code == 404
    db.refresh(theirs.token)
    assert theirs.token.revoked_at is None
    assert "theirs" not in client.get("/admin/account").text


def test_guessing_the_current_password_is_rate_limited(
    client: TestClient, db: Session, limiter: FakeLimiter
) -> None:
    agent, token = logged_in(client, db, "agent")
    limiter.limit = 1

    first = change_password(client, token, "guess number one", NEW_PASSWORD, NEW_PASSWORD)
    second = change_password(client, token, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert first.status_code == 422
    assert second.status_code == 429
    assert second.headers["retry-after"] == "42"
    assert limiter.hits[-2:] == [(f"password:{agent.id}", "10/minute")] * 2
    db.refresh(agent)
    assert passwords.verify(agent.password_hash, PASSWORD)
