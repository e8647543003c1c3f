"""Staff service: accounts, authentication and lockout, sessions, API tokens, audit events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.errors import Conflict, InvalidInput, NotFound
from privacyops.models.staff import ApiToken, StaffMember, StaffSession
from privacyops.settings import Settings
from privacyops.staff import service
from privacyops.staff.permissions import Role
from tests.staff.helpers import PASSWORD, T0, events, make_staff

# --- accounts ---------------------------------------------------------------------------------


def test_create_lowercases_the_email_hashes_the_password_and_records_it(db: Session) -> None:
    staff = service.create_staff(
        db, email="  Ann@Example.COM ", role="agent", password=PASSWORD, actor="cli"
    )

    assert staff.email == "ann@example.com"
    assert staff.password_hash.startswith("$argon2id$")
    assert PASSWORD not in staff.password_hash
    [event] = events(db, "staff.created")
    assert (event.actor, event.target, event.details) == (
        "cli",
        f"staff:{staff.id}",
        {"role": "agent"},
    )


def test_email_is_unique_whatever_its_case(db: Session) -> None:
    make_staff(db, "agent", "ann@example.com")
    with pytest.raises(Conflict):
        make_staff(db, "agent", "ANN@example.com")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"role": "superuser"}, "role"),
        ({"password": "too short"}, "password"),
        ({"password": "ann@example.com"}, "password"),
    ],
)
def test_create_rejects_bad_input(db: Session, kwargs: dict[str, str], field: str) -> None:
    values = {"email": "ann@example.com", "role": "agent", "password": PASSWORD} | kwargs
    with pytest.raises(InvalidInput) as caught:
        service.create_staff(db, actor="cli", **values)
    assert [p.field for p in caught.value.problems] == [field]
    assert db.scalars(select(StaffMember)).all() == []


def test_list_is_paginated_and_recorded(db: Session) -> None:
    for role in ("agent", "auditor", "engineer"):
        make_staff(db, role)

    page = service.list_staff(db, offset=1, limit=1, actor="staff:9", client="10.0.0.1")

    assert [s.email for s in page.items] == ["auditor@example.com"]
    assert page.total == 3
    [event] = events(db, "staff.listed")
    assert (event.actor, event.client) == ("staff:9", "10.0.0.1")
    assert event.details == {"offset": 1, "limit": 1, "count": 1}


def test_the_last_active_admin_cannot_be_disabled_or_demoted(db: Session) -> None:
    admin = make_staff(db, "admin")
    with pytest.raises(Conflict):
        service.disable(db, admin, actor="cli")
    with pytest.raises(Conflict):
        service.set_role(db, admin, "agent", actor="cli")
    make_staff(db, "admin", "second@example.com")
    service.set_role(db, admin, "agent", actor="cli")
    assert admin.role == "agent"


def test_unknown_email_is_not_found(db: Session) -> None:
    with pytest.raises(NotFound):
        service.staff_by_email(db, "nobody@example.com")


# --- authentication and lockout ---------------------------------------------------------------


def test_success_returns_the_member_and_stamps_the_login(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")

    found = service.authenticate(db, settings, "AGENT@example.com", PASSWORD, now=T0)

    assert found is staff
    assert staff.last_login_at == T0


def test_wrong_password_and_unknown_email_get_the_same_message(
    db: Session, settings: Settings
) -> None:
    make_staff(db, "agent")
    with pytest.raises(service.LoginRefused) as wrong:
        service.authenticate(db, settings, "agent@example.com", "not the password", now=T0)
    with pytest.raises(service.LoginRefused) as unknown:
        service.authenticate(db, settings, "nobody@example.com", PASSWORD, now=T0)

    assert wrong.value.message == unknown.value.message == "Wrong email or password."
    failed = events(db, "staff.login_failed")
    assert [e.details["reason"] for e in failed] == ["wrong password", "unknown account"]
    # Neither the typed email nor the password is recorded.
    text = json.dumps([[e.actor, e.target, e.details] for e in failed])
    assert "nobody" not in text
    assert "not the password" not in text


def fail(db: Session, settings: Settings, minutes: float = 0) -> service.LoginRefused:
    with pytest.raises(service.LoginRefused) as caught:
        service.authenticate(
            db,
            settings,
            "agent@example.com",
            "wrong password!",
            now=T0 + timedelta(minutes=minutes),
        )
    return caught.value


def test_lockout_after_max_failures_then_doubling(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")
    assert (settings.login_max_failures, settings.login_lockout_seconds) == (5, 60)

    for _ in range(4):
        assert fail(db, settings).retry_after is None
    fifth = fail(db, settings)

    assert fifth.retry_after == 60
    assert "Try again after 09:01:00 UTC" in fifth.message
    assert staff.locked_until == T0 + timedelta(seconds=60)
    # After the lock, one more failure locks again for twice as long, then four times.
    assert fail(db, settings, minutes=1).retry_after == 120
    assert fail(db, settings, minutes=3).retry_after == 240
    locked = events(db, "staff.locked_out")
    assert [e.details for e in locked] == [
        {"failures": 5, "seconds": 60},
        {"failures": 6, "seconds": 120},
        {"failures": 7, "seconds": 240},
    ]


def test_lockout_never_exceeds_an_hour(settings: Settings) -> None:
    assert service.lockout_for(5, settings) == timedelta(seconds=60)
    assert service.lockout_for(11, settings) == timedelta(hours=1)
    assert service.lockout_for(500, settings) == timedelta(hours=1)


def test_locked_account_refuses_the_right_password_without_saying_so(
    db: Session, settings: Settings
) -> None:
    make_staff(db, "agent")
    for _ in range(5):
        fail(db, settings)

    with pytest.raises(service.LoginRefused) as right:
        service.authenticate(
            db, settings, "agent@example.com", PASSWORD, now=T0 + timedelta(seconds=30)
        )
    wrong = fail(db, settings, minutes=0.5)

    assert right.value.message == wrong.message
    assert right.value.retry_after == wrong.retry_after == 30


def test_success_after_the_lock_resets_the_counter(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")
    for _ in range(5):
        fail(db, settings)

    service.authenticate(db, settings, "agent@example.com", PASSWORD, now=T0 + timedelta(minutes=2))

    assert (staff.failed_logins, staff.locked_until) == (0, None)
    assert fail(db, settings, minutes=2).retry_after is None


def test_disabled_account_is_refused_with_the_usual_message(
    db: Session, settings: Settings
) -> None:
    staff = make_staff(db, "agent")
    make_staff(db, "admin")
    service.disable(db, staff, actor="cli")

    with pytest.raises(service.LoginRefused) as caught:
        service.authenticate(db, settings, "agent@example.com", PASSWORD, now=T0)

    assert caught.value.message == "Wrong email or password."
    assert events(db, "staff.login_failed")[-1].details == {"reason": "disabled"}


# --- sessions ---------------------------------------------------------------------------------


def test_login_opens_a_session_stored_by_hash_and_rotates_the_old_one(
    db: Session, settings: Settings
) -> None:
    make_staff(db, "agent")
    first = service.login(db, settings, "agent@example.com", PASSWORD, client="10.0.0.2", now=T0)
    second = service.login(
        db, settings, "agent@example.com", PASSWORD, previous_token=first.token, now=T0
    )

    assert first.session.id == service.digest(first.token) != first.token
    assert db.get(StaffSession, first.token) is None
    assert first.session.ended_at == T0
    assert service.session_for(db, settings, first.token, now=T0) is None
    assert service.session_for(db, settings, second.token, now=T0) is second.session
    assert [e.client for e in events(db, "staff.login")] == ["10.0.0.2", None]


def test_idle_expiry(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")
    issued = service.start_session(db, staff, now=T0)
    idle = timedelta(minutes=settings.session_idle_minutes)

    # Each use within the idle time keeps it alive; last_seen is written at most once a minute.
    assert service.session_for(db, settings, issued.token, now=T0 + timedelta(seconds=30))
    assert issued.session.last_seen_at == T0
    assert service.session_for(db, settings, issued.token, now=T0 + idle - timedelta(seconds=1))
    assert issued.session.last_seen_at == T0 + idle - timedelta(seconds=1)
    later = issued.session.last_seen_at + idle
    assert service.session_for(db, settings, issued.token, now=later) is None
    assert issued.session.ended_at == later
    assert service.session_for(db, settings, issued.token, now=T0 + idle) is None


def test_absolute_expiry_even_when_used(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")
    issued = service.start_session(db, staff, now=T0)
    end = T0 + timedelta(hours=settings.session_absolute_hours)

    now = T0
    while now < end - timedelta(minutes=10):
        now += timedelta(minutes=10)
        assert service.session_for(db, settings, issued.token, now=now) is not None
    assert service.session_for(db, settings, issued.token, now=end) is None


def test_logout_ends_the_session(db: Session, settings: Settings) -> None:
    staff = make_staff(db, "agent")
    issued = service.start_session(db, staff, now=T0)

    service.logout(db, issued.session, client="10.0.0.3", now=T0)

    assert service.session_for(db, settings, issued.token, now=T0) is None
    [event] = events(db, "staff.logout")
    assert (event.actor, event.client) == (f"staff:{staff.id}", "10.0.0.3")


@pytest.mark.parametrize("change", ["role", "disable", "password"])
def test_changes_to_the_account_end_its_sessions(
    db: Session, settings: Settings, change: str
) -> None:
    make_staff(db, "admin")
    staff = make_staff(db, "agent")
    issued = service.start_session(db, staff)
    if change == "role":
        service.set_role(db, staff, "auditor", actor="cli")
    elif change == "disable":
        service.disable(db, staff, actor="cli")
    else:
        service.change_password(db, staff, "a brand new passphrase", actor="cli")

    assert service.session_for(db, settings, issued.token) is None
    assert issued.session.ended_at is not None


def test_unknown_or_absurd_cookies_are_no_session(db: Session, settings: Settings) -> None:
    assert service.session_for(db, settings, None) is None
    assert service.session_for(db, settings, "") is None
    assert service.session_for(db, settings, "x" * 10_000) is None
    assert service.session_for(db, settings, "made-up") is None


# --- API tokens -------------------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_hash_is_stored(db: Session) -> None:
    admin = make_staff(db, "admin")

    issued = service.issue_token(db, admin, name="siem", role="auditor", actor="cli", now=T0)

    assert issued.plaintext.startswith("pops_")
    assert len(issued.plaintext) >= len("pops_") + 43  # 32 random bytes
    row = db.scalars(select(ApiToken)).one()
    assert row.token_hash == service.digest(issued.plaintext)
    assert row.prefix == issued.plaintext[:12]
    stored = [row.token_hash, row.prefix, row.name, row.role]
    assert issued.plaintext not in stored
    [event] = events(db, "token.created")
    assert issued.plaintext not in json.dumps(event.details)
    assert service.verify_token(db, issued.plaintext, now=T0) is row
    assert row.last_used_at == T0


def test_revoked_token_is_refused(db: Session) -> None:
    admin = make_staff(db, "admin")
    issued = service.issue_token(db, admin, name="ci", role="admin", actor="cli")

    service.revoke_token(db, issued.token, actor="staff:1")

    assert service.verify_token(db, issued.plaintext) is None
    assert events(db, "token.revoked")[0].details == {"owner": f"staff:{admin.id}"}


@pytest.mark.parametrize(("owner", "scope"), [("agent", "privacy_officer"), ("auditor", "admin")])
def test_token_scope_cannot_exceed_the_owner(db: Session, owner: str, scope: str) -> None:
    staff = make_staff(db, owner)
    with pytest.raises(InvalidInput) as caught:
        service.issue_token(db, staff, name="x", role=scope, actor="cli")
    assert caught.value.problems[0].field == "role"


def test_token_scope_cannot_exceed_the_token_that_asks(db: Session) -> None:
    admin = make_staff(db, "admin")
    with pytest.raises(InvalidInput):
        service.issue_token(
            db, admin, name="x", role="admin", acting_role=Role.auditor, actor="token:1"
        )


def test_token_stops_working_when_its_owner_is_disabled_or_demoted(db: Session) -> None:
    make_staff(db, "admin", "boss@example.com")
    admin = make_staff(db, "admin")
    as_admin = service.issue_token(db, admin, name="a", role="admin", actor="cli")
    as_auditor = service.issue_token(db, admin, name="b", role="auditor", actor="cli")

    service.set_role(db, admin, "auditor", actor="cli")
    assert service.verify_token(db, as_admin.plaintext) is None
    assert service.verify_token(db, as_auditor.plaintext) is not None

    service.disable(db, admin, actor="cli")
    assert service.verify_token(db, as_auditor.plaintext) is None


def test_expired_token_is_refused(db: Session) -> None:
    admin = make_staff(db, "admin")
    issued = service.issue_token(
        db, admin, name="x", role="admin", actor="cli", expires_at=T0 + timedelta(days=1), now=T0
    )
    assert service.verify_token(db, issued.plaintext, now=T0 + timedelta(hours=23)) is not None
    assert service.verify_token(db, issued.plaintext, now=T0 + timedelta(days=1)) is None


@pytest.mark.parametrize("value", ["", "pops_", "pops_made-up", "Bearer x", "x" * 5000])
def test_unknown_tokens_are_refused(db: Session, value: str) -> None:
    assert service.verify_token(db, value) is None
