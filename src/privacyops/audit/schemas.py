"""Filters and output shapes for reading the audit log (admin console, admin API, export)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from privacyops.audit.actions import AuditAction
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.models.audit import AuditEvent

if TYPE_CHECKING:
    from privacyops.audit.verify import VerifyResult


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


# --- filters typed by people (console form) and scripts (API query) ----------------------------

# An action (`staff.created`) or a prefix (`staff.` or `staff.*`). Any well-formed name is
# accepted, not only the ones the code knows today: the log keeps actions that may be retired.
ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*?)?$"
# A subject is a full keyed hash (HMAC-SHA256, hex): a shortened one would match nothing.
SUBJECT_PATTERN = r"^[0-9a-f]{64}$"
TEXT_FILTERS = ("actor", "action", "subject", "target")
DATE_FILTERS = ("date_from", "date_to")
FILTER_FIELDS = (*TEXT_FILTERS, *DATE_FILTERS)
_MAX_LENGTH = {"actor": 200, "action": 64, "subject": 64, "target": 200}


def parse_filters(values: Mapping[str, str]) -> AuditFilters:
    """Filters from a form's text fields (blank means no filter); every bad field is reported.

    Messages name the field and never repeat the value.
    """
    problems: list[FieldProblem] = []
    parsed: dict[str, Any] = {}
    for name in TEXT_FILTERS:
        value = values.get(name, "").strip()
        if not value:
            continue
        problem = _text_problem(name, value)
        if problem is None:
            parsed[name] = value.lower() if name == "subject" else value
        else:
            problems.append(FieldProblem(name, problem))
    for name in DATE_FILTERS:
        value = values.get(name, "").strip()
        if not value:
            continue
        try:
            parsed[name] = date.fromisoformat(value)
        except ValueError:
            problems.append(FieldProblem(name, "not a date (expected YYYY-MM-DD)"))
    if problems:
        raise InvalidInput("; ".join(p.render() for p in problems), problems)
    return AuditFilters(**parsed)


def _text_problem(name: str, value: str) -> str | None:
    if len(value) > _MAX_LENGTH[name]:
        return f"at most {_MAX_LENGTH[name]} characters"
    if name == "action" and not re.match(ACTION_PATTERN, value):
        return "not an action name (such as staff.created) or prefix (such as staff.*)"
    if name == "subject" and not re.match(SUBJECT_PATTERN, value.lower()):
        return "paste the subject's full hash (64 hexadecimal characters)"
    return None


def filter_values(filters: AuditFilters) -> dict[str, str]:
    """The filters as query-string values (only those set), for links that keep them."""
    return {k: str(v) for k, v in filters.model_dump(exclude_none=True).items()}


@dataclass(frozen=True)
class ActionGroup:
    """Known actions that share a prefix, for the console's select."""

    prefix: str
    actions: tuple[str, ...]

    @property
    def wildcard(self) -> str:
        return f"{self.prefix}.*"


def action_groups() -> list[ActionGroup]:
    groups: dict[str, list[str]] = {}
    for action in AuditAction:
        groups.setdefault(str(action).split(".", 1)[0], []).append(str(action))
    return [ActionGroup(prefix, tuple(sorted(names))) for prefix, names in sorted(groups.items())]


# The kinds of break `verify.verify_chain` names (its `Problem`; verify imports this module's
# neighbours, so the list is repeated here and a test keeps the two equal).
BreakProblem = Literal[
    "edited", "missing", "out_of_order", "rewritten", "truncated", "head_mismatch", "unchained"
]


class ChainBreakOut(BaseModel):
    seq: int = Field(description="The first event that breaks the chain.")
    id: int | None = Field(description="Its row id, when the row exists.")
    problem: BreakProblem = Field(description="What kind of break it is.")
    message: str = Field(description="The break in plain words.")


class VerifyOut(BaseModel):
    ok: bool = Field(description="True when the whole chain is intact.")
    checked: int = Field(description="Events checked before the first break (all when intact).")
    broken: ChainBreakOut | None = Field(description="The first break, or null.")

    @classmethod
    def of(cls, result: VerifyResult) -> VerifyOut:
        broken = result.broken
        return cls(
            ok=result.ok,
            checked=result.checked,
            broken=None
            if broken is None
            else ChainBreakOut(
                seq=broken.seq, id=broken.id, problem=broken.problem, message=broken.message
            ),
        )
