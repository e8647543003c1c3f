"""Shared by the audit console and API tests: seeded events, logged-in staff, parsing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.models.audit import AuditEvent
from privacyops.models.types import UTCDateTime
from privacyops.staff import service
from tests.staff.helpers import make_staff

SUBJECT = "ab" * 32
OTHER_SUBJECT = "cd" * 32
NASTY = '<script>alert("x")</script>'

# (action, actor, subject, target, day, details), recorded in this order: seq 1..7 after any
# events recorded before (the tests read seqs through `seeded`).
PLAN = [
    (AuditAction.staff_created, "cli", None, "staff:901", date(2026, 1, 10), {}),
    (AuditAction.staff_login, "staff:901", None, None, date(2026, 1, 10), {}),
    (AuditAction.staff_role_changed, "staff:901", None, "staff:902", date(2026, 1, 11), {}),
    (AuditAction.subject_viewed, "staff:902", SUBJECT, "subject:9", date(2026, 1, 11), {}),
    (AuditAction.staff_logout, "staff:901", None, None, date(2026, 1, 12), {"note": NASTY}),
    (AuditAction.subject_viewed, "staff:903", OTHER_SUBJECT, None, date(2026, 1, 13), {}),
    (AuditAction.policy_published, "cli", None, "policy:2", date(2026, 1, 14), {"version": 2}),
]


def seed(db: Session) -> list[int]:
    """The PLAN's events, backdated to 23:59:59 UTC of their day; returns their seqs."""
    statement = text("UPDATE audit_events SET at = :at WHERE seq = :seq").bindparams(
        bindparam("at", type_=UTCDateTime())
    )
    found = []
    for action, actor, subject, target, day, details in PLAN:
        event = record(db, action, actor=actor, subject=subject, target=target, details=details)
        at = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        db.execute(statement, {"at": at, "seq": event.seq})
        found.append(event.seq)
    db.commit()
    db.expire_all()
    return found


def log_in_as(client: TestClient, db: Session, role: str) -> str:
    """A session cookie for a new member with `role` on `client`; returns the CSRF token."""
    staff = make_staff(db, role, f"{role}@example.com")
    issued = service.start_session(db, staff)
    db.commit()
    client.cookies.set("privacyops_session", issued.token)
    return issued.session.csrf_token


def bearer(db: Session, role: str) -> dict[str, str]:
    staff = make_staff(db, role, f"{role}-token@example.com")
    issued = service.issue_token(db, staff, name="test", role=role, actor="cli")
    db.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def shown_seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="audit-seq">(\d+)</td>', html)]


def events_of(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(db.scalars(query))


def tamper(db: Session, seq: int) -> None:
    """Edit one row behind the audit service's back, as someone with database access could."""
    db.execute(text("UPDATE audit_events SET actor = 'staff:666' WHERE seq = :seq"), {"seq": seq})
    db.commit()
