"""Writing to the audit log. Reading, verifying and exporting build on the same chain rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from privacyops.audit import repository
from privacyops.audit.actions import AuditAction
from privacyops.audit.chain import event_hash
from privacyops.models.audit import AuditEvent
from privacyops.models.types import utcnow

SYSTEM = "system"


def record(
    db: Session,
    action: AuditAction,
    *,
    actor: str,
    subject: str | None = None,
    target: str | None = None,
    client: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction: it is committed with the change it records.

    `actor` is `staff:<id>`, `token:<id>`, `cli`, `consumer` or `system`; `subject` is a keyed
    hash of the data subject (never an identity in clear); `details` must hold no personal data.
    """
    seq, prev_hash = repository.advance_head(db)
    at = utcnow()
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": str(action),
        "subject": subject,
        "target": target,
        "client": client,
        "details": dict(details or {}),
    }
    digest = event_hash(**fields, prev_hash=prev_hash)
    event = AuditEvent(**fields, prev_hash=prev_hash, hash=digest)
    repository.append(db, event)
    return event
