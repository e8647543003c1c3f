"""Filters and output shapes for reading the audit log (admin console, admin API, export)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from privacyops.audit.actions import AuditAction
from privacyops.models.audit import AuditEvent


class AuditFilters(BaseModel):
    """What to look for; every field is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: str | None = Field(
        None, max_length=200, description="Exact actor, such as `staff:3`, `cli` or `system`."
    )
    action: str | None = Field(
        None,
        max_length=64,
        description="An exact action (`staff.created`) or a prefix ending in a dot (`staff.`).",
    )
    subject: str | None = Field(
        None, max_length=64, description="The data subject's keyed hash (never an identity)."
    )
    target: str | None = Field(None, max_length=200, description="Exact target, e.g. `staff:3`.")
    date_from: date | None = Field(None, description="First day included (UTC).")
    date_to: date | None = Field(None, description="Last day included (UTC).")

    def action_names(self) -> list[str] | None:
        """The exact action names to match, or None for any action.

        A prefix (`staff.` or `staff.*`) expands to the known actions that start with it, so the
        query is an indexed `IN (...)` on both databases rather than a `LIKE` that PostgreSQL
        cannot serve from the index under a non-C collation.
        """
        if not self.action:
            return None
        wanted = self.action.removesuffix("*")
        if not wanted.endswith("."):
            return [wanted]
        return [str(a) for a in AuditAction if str(a).startswith(wanted)]


@dataclass(frozen=True)
class Page:
    """One page of events, newest first, with the number of all matching events."""

    items: Sequence[AuditEvent]
    total: int
    offset: int
    limit: int


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the form SIEMs parse without guessing."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def event_record(event: Any) -> dict[str, Any]:
    """An event (ORM object or row) as the plain dict that export and the API share."""
    return {
        "seq": event.seq,
        "at": iso_utc(event.at),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "target": event.target,
        "client": event.client,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


class AuditEventOut(BaseModel):
    seq: int = Field(description="Position in the chain, counting from 1.")
    at: datetime = Field(description="When it happened (UTC).")
    actor: str = Field(description="`staff:<id>`, `token:<id>`, `cli`, `consumer` or `system`.")
    action: str = Field(description="What happened, such as `staff.created`.")
    subject: str | None = Field(description="The data subject's keyed hash, if any.")
    target: str | None = Field(description="What the action was done to, such as `staff:3`.")
    client: str | None = Field(description="The client address the action came from.")
    details: dict[str, Any] = Field(description="Extra facts; never personal data.")
    prev_hash: str = Field(description="The previous event's hash (the chain link).")
    hash: str = Field(description="sha256 over this event's content and prev_hash.")

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            target=event.target,
            client=event.client,
            details=event.details,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class AuditEventList(BaseModel):
    items: list[AuditEventOut]
    total: int = Field(description="Number of events matching the filters.")
    offset: int
    limit: int

    @classmethod
    def of(cls, page: Page) -> AuditEventList:
        return cls(
            items=[AuditEventOut.of(e) for e in page.items],
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )
