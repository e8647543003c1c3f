"""Shared by the staff and web tests: cheap hashing, staff factories, a fake rate limiter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.models.audit import AuditEvent
from privacyops.models.staff import StaffMember
from privacyops.ratelimit import Decision
from privacyops.staff import passwords, service

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def use_fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny costs: the same code path, a thousandth of the time."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def make_staff(
    db: Session, role: str = "admin", email: str | None = None, password: str = PASSWORD
) -> StaffMember:
    return service.create_staff(
        db, email=email or f"{role}@example.com", role=role, password=password, actor="cli"
    )


def events(db: Session, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


@dataclass
class FakeLimiter:
    """Allows `limit` hits per key, then refuses with `retry_after`; remembers every hit."""

    limit: int = 1000
    retry_after: int = 42
    hits: list[tuple[str, str]] = field(default_factory=list)

    def hit(self, key: str, rule: str) -> Decision:
        self.hits.append((key, rule))
        count = sum(1 for k, _ in self.hits if k == key)
        if count > self.limit:
            return Decision(allowed=False, remaining=0, retry_after=self.retry_after)
        return Decision(allowed=True, remaining=self.limit - count, retry_after=0)


def login_csrf(client: TestClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "") -> object:
    token = login_csrf(client)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )
