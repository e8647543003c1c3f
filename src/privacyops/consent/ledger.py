"""The consent ledger: every choice appended as a record, the current decision kept beside it.

Plain Python; the caller commits. A decision is the latest record for the person (or browser)
and purpose; without one, the purpose's default (`purposes.Purpose.default_allowed`) answers,
and the answer says which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from privacyops.consent.propagation import KINDS, schedule
from privacyops.consent.purposes import GPC_PURPOSES, Purpose, UnknownPurpose, purpose
from privacyops.errors import FieldProblem, InvalidInput, NotFound, PrivacyOpsError
from privacyops.identity.normalize import IdentityKind, normalize
from privacyops.identity.service import find_subject, get_or_create_subject
from privacyops.models.consent import ConsentDecision, ConsentRecord
from privacyops.models.identity import SubjectIdentity
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.policy.manifest import PolicyManifest
from privacyops.vault.service import Vault

FILTER_CHUNK = 1000
MAX_WORDING = 5000


class Method(StrEnum):
    banner = "banner"
    gpc = "gpc"
    unsubscribe_link = "unsubscribe_link"
    sms_reply = "sms_reply"
    preference_page = "preference_page"
    staff = "staff"
    api = "api"
    import_ = "import"


# Choices a person made themselves: a later GPC signal that contradicts one is a conflict to
# show them, not something to overwrite silently.
EXPLICIT = frozenset(
    {Method.banner, Method.preference_page, Method.sms_reply, Method.staff, Method.api}
)


@dataclass(frozen=True)
class Who:
    """A person (data subject), a browser (the banner's first-party id), or both."""

    subject_id: str | None = None
    browser_id: str | None = None

    def __post_init__(self) -> None:
        if self.subject_id is None and self.browser_id is None:
            raise ValueError("a consent record needs a person or a browser")


@dataclass(frozen=True)
class Evidence:
    """How the choice was made: the wording shown, and the client (hashed)."""

    wording: str | None = None
    client_hash: str | None = None
    user_agent: str | None = None


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [FieldProblem(field, message)])


def checked_purpose(key: str, field: str = "purpose") -> Purpose:
    try:
        return purpose(key)
    except UnknownPurpose as exc:
        raise _problem(field, str(exc)) from None


def record(
    db: Session,
    who: Who,
    purpose_key: str,
    allowed: bool,
    method: Method,
    *,
    actor: str,
    at: datetime | None = None,
    policy_version: int | None = None,
    state: str | None = None,
    evidence: Evidence = Evidence(),
    list_key: str | None = None,
) -> ConsentRecord:
    """Append a choice and make it the current decision.

    A GPC signal repeats on every request: when the decision is already that signal's opt-out,
    nothing new is appended. A signal contradicting an explicit yes is kept with a pointer to
    that yes (`overrides_record`), so the person is shown the conflict (CCPA 11 CCR 7025(c)(3):
    the signal wins, the business may tell the consumer)."""
    chosen = checked_purpose(purpose_key)
    current = _current(db, who, chosen.key)
    if method is Method.gpc and current is not None and not current.allowed:
        previous = db.get(ConsentRecord, current.record_id)
        if previous is not None and previous.method == Method.gpc:
            return previous
    wording = (evidence.wording or "")[:MAX_WORDING] or None
    entry = ConsentRecord(
        subject_id=who.subject_id,
        browser_id=who.browser_id,
        purpose=chosen.key,
        allowed=allowed,
        method=method.value,
        policy_version=policy_version,
        state=state,
        recorded_at=at or utcnow(),
        actor=actor,
        wording=wording,
        wording_sha256=hashlib.sha256(wording.encode()).hexdigest() if wording else None,
        client_hash=evidence.client_hash,
        user_agent=(evidence.user_agent or "")[:300] or None,
        list_key=list_key,
        overrides_record=_overridden(db, current, method, allowed),
    )
    db.add(entry)
    db.flush()
    _decide(db, who, entry)
    if not allowed and who.subject_id is not None and chosen.key in KINDS:
        manifest = _manifest(db, policy_version)
        if manifest is not None:
            schedule(db, entry, manifest, entry.recorded_at)
    return entry


def _manifest(db: Session, number: int | None) -> PolicyManifest | None:
    """The policy the choice was made under (the one in force when not given); None before
    any policy is published, when no partner is known either."""
    from privacyops.dsr.service import manifest_of, policy_in_force

    version = db.scalar(select(PolicyVersion).where(PolicyVersion.number == number))
    if version is None:
        try:
            version = policy_in_force(db, utcnow())
        except NotFound:
            return None
    return manifest_of(version)


def _overridden(
    db: Session, current: ConsentDecision | None, method: Method, allowed: bool
) -> int | None:
    if method is not Method.gpc or allowed or current is None or not current.allowed:
        return None
    previous = db.get(ConsentRecord, current.record_id)
    return previous.id if previous is not None and previous.method in EXPLICIT else None


def _current(db: Session, who: Who, key: str) -> ConsentDecision | None:
    if who.subject_id is not None:
        found = db.scalar(
            select(ConsentDecision).where(
                ConsentDecision.subject_id == who.subject_id, ConsentDecision.purpose == key
            )
        )
        if found is not None:
            return found
    if who.browser_id is not None:
        return db.scalar(
            select(ConsentDecision).where(
                ConsentDecision.browser_id == who.browser_id, ConsentDecision.purpose == key
            )
        )
    return None


def _decide(db: Session, who: Who, entry: ConsentRecord) -> None:
    for column, value in (
        (ConsentDecision.subject_id, who.subject_id),
        (ConsentDecision.browser_id, who.browser_id),
    ):
        if value is None:
            continue
        decision = db.scalar(
            select(ConsentDecision).where(column == value, ConsentDecision.purpose == entry.purpose)
        )
        if decision is None:
            decision = ConsentDecision(purpose=entry.purpose)
            setattr(decision, column.key, value)
            db.add(decision)
        decision.allowed = entry.allowed
        decision.record_id = entry.id
        decision.updated_at = entry.recorded_at
    db.flush()


def record_gpc(
    db: Session,
    who: Who,
    *,
    actor: str,
    policy_version: int | None,
    state: str | None = None,
    evidence: Evidence = Evidence(),
) -> list[ConsentRecord]:
    """`Sec-GPC: 1` or `navigator.globalPrivacyControl`: an opt-out of sale, sharing and
    targeted advertising (and advertising cookies) for the browser and, when known, the person
    (11 CCR 7025; the GPC spec, section 3 of the reference notes)."""
    return [
        record(
            db,
            who,
            key,
            False,
            Method.gpc,
            actor=actor,
            policy_version=policy_version,
            state=state,
            evidence=evidence,
        )
        for key in GPC_PURPOSES
    ]


# -- reading decisions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    purpose: str
    allowed: bool
    reason: str
    record_id: int | None = None
    method: str | None = None
    recorded_at: datetime | None = None
    conflict_with: int | None = None


def decide(db: Session, who: Who | None, purpose_key: str, state: str | None = None) -> Decision:
    """Allowed or not, and why: the latest record, or the purpose's default."""
    chosen = checked_purpose(purpose_key)
    current = _current(db, who, chosen.key) if who is not None else None
    if current is None:
        allowed = chosen.default_allowed(state)
        model = "opt-out" if allowed else "opt-in"
        return Decision(
            chosen.key, allowed, f"no choice recorded: {model} by default ({chosen.source})"
        )
    entry = db.get_one(ConsentRecord, current.record_id)
    verb = "allowed" if entry.allowed else "refused"
    when = entry.recorded_at.date().isoformat()
    return Decision(
        chosen.key,
        current.allowed,
        f"{verb} by {entry.method} on {when} (record {entry.id})",
        entry.id,
        entry.method,
        entry.recorded_at,
        entry.overrides_record,
    )


def person(db: Session, vault: Vault, kind: str, value: str, field: str) -> Who | None:
    """The person with this identity, or None when we know nobody by it."""
    try:
        found = find_subject(db, vault, kind, normalize(kind, value, field))
    except PrivacyOpsError:
        raise
    return Who(subject_id=found.id) if found is not None else None


def person_or_new(db: Session, vault: Vault, kind: str, value: str, field: str) -> Who:
    """The person with this identity, created if unknown (an unsubscribe from a list member who
    never made a request still needs a record to hold the choice)."""
    subject, _ = get_or_create_subject(db, vault, {kind: normalize(kind, value, field)})
    return Who(subject_id=subject.id)


def history(db: Session, who: Who, limit: int = 200) -> list[ConsentRecord]:
    query = select(ConsentRecord).order_by(ConsentRecord.id.desc()).limit(limit)
    if who.subject_id is not None and who.browser_id is not None:
        query = query.where(
            (ConsentRecord.subject_id == who.subject_id)
            | (ConsentRecord.browser_id == who.browser_id)
        )
    elif who.subject_id is not None:
        query = query.where(ConsentRecord.subject_id == who.subject_id)
    else:
        query = query.where(ConsentRecord.browser_id == who.browser_id)
    return list(db.scalars(query))


def allowed_contacts(
    db: Session,
    vault: Vault,
    purpose_key: str,
    kind: IdentityKind,
    values: Iterable[str],
    state: str | None = None,
) -> Iterator[str]:
    """The values (emails or phone numbers) that may be contacted for the purpose, in input
    order; unreadable values are dropped (never contact what cannot be checked). One query per
    chunk of 1,000, never one per value."""
    chosen = checked_purpose(purpose_key)
    default = chosen.default_allowed(state)
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= FILTER_CHUNK:
            yield from _allowed_chunk(db, vault, chosen.key, kind, chunk, default)
            chunk = []
    if chunk:
        yield from _allowed_chunk(db, vault, chosen.key, kind, chunk, default)


def _allowed_chunk(
    db: Session, vault: Vault, key: str, kind: IdentityKind, chunk: list[str], default: bool
) -> Iterator[str]:
    indexes: dict[str, str] = {}
    for value in chunk:
        try:
            indexes[value] = vault.blind_index(kind.value, value)
        except PrivacyOpsError:
            continue
    if not indexes:
        return
    rows = db.execute(
        select(SubjectIdentity.blind_index, ConsentDecision.allowed)
        .join(ConsentDecision, ConsentDecision.subject_id == SubjectIdentity.subject_id)
        .where(
            tuple_(SubjectIdentity.blind_index, SubjectIdentity.kind).in_(
                [(index, kind.value) for index in set(indexes.values())]
            ),
            ConsentDecision.purpose == key,
        )
    ).all()
    decided: dict[str, bool] = {}
    for index, allowed in rows:
        decided[index] = allowed
    for value, index in indexes.items():
        if decided.get(index, default):
            yield value
