"""Rights requests: intake, verification, and what staff and requesters read. Plain Python: the
caller commits.

Intake stores a request whole or not at all: input is checked first (every problem named by
field), then the rules engine decides; a refused request stores nothing. An accepted one is
stored with its identities (blind index + ciphertext under the subject's key), the policy
version and the rules in force (the snapshot), and its receipt and code messages are queued in
the same transaction.

Subjects and identities: the subject is found by the request's email, or created with the email
alone. Other identities (phone, loyalty id) are never linked to a subject at intake: linking is
what lets a later request reach the whole record, so it happens only once each is verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.dsr import notices, repository
from privacyops.dsr.codes import code_hmac, code_matches, keyed_hash, new_code, new_reference
from privacyops.dsr.intake import ValidRequest, validate
from privacyops.dsr.records import (
    CONSUMER,
    add_event,
    audit,
    identity_context,
    identity_value,
    load,
    move,
    seal_json,
    unseal,
    unseal_json,
)
from privacyops.dsr.schemas import RequestIn
from privacyops.dsr.snapshot import Rules, decision_json
from privacyops.dsr.status import CLOSED, OPEN, Channel, Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound, PrivacyOpsError
from privacyops.identity import repository as identity_repository
from privacyops.identity.normalize import IdentityKind
from privacyops.identity.service import IdentitiesConflict, find_subject, get_or_create_subject
from privacyops.models.connectors import CollectionTask
from privacyops.models.dsr import (
    DataRequest,
    RequestEvent,
    RequestIdentity,
    RequestTask,
    VerificationCode,
)
from privacyops.models.policy import PolicyVersion
from privacyops.policy.manifest import PolicyManifest
from privacyops.rights.rules import Decision, RequestType, decide
from privacyops.vault.service import SubjectShredded, Vault

CODE_TTL = timedelta(minutes=notices.CODE_MINUTES)
MAX_ATTEMPTS = 5
MAX_SENDS = 4  # the first code and 3 resends
RESEND_INTERVAL = timedelta(seconds=60)
MIN_EXTRA_POINTS = 2  # with the verified email: 3 data points (11 CCR 7062)
CODE_KINDS = (IdentityKind.email.value, IdentityKind.phone.value)
MAX_IDEMPOTENCY_KEY = 255


class TooManyRequests(PrivacyOpsError):
    """Refused for now; `retry_after` seconds says when to come back (None: not by waiting)."""

    status_code = 429
    title = "Too many requests"

    def __init__(self, message: str, retry_after: int | None, field: str = "code") -> None:
        super().__init__(message, [FieldProblem(field=field, message=message)])
        self.retry_after = retry_after


class CodeRefused(InvalidInput):
    """A code that does not open the request. The caller commits before answering, so that a
    wrong attempt counts even though the request fails."""


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [FieldProblem(field=field, message=message)])


def _code_refused(message: str) -> CodeRefused:
    return CodeRefused(f"code: {message}", [FieldProblem(field="code", message=message)])


# --- intake --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    request: DataRequest
    created: bool  # False: an earlier request with the same Idempotency-Key


def needs_review(request: DataRequest) -> bool:
    """Staff look before acting on what cannot be undone or hands over the most: deletions,
    corrections, appeals, specific pieces, the stronger standard, and agents' requests."""
    return (
        request.type in (RequestType.deletion, RequestType.correction, RequestType.appeal)
        or request.specific_pieces
        or request.via_agent
        or request.verification == "high"
    )


def submit(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    data: RequestIn,
    channel: Channel | str,
    received_at: datetime,
    *,
    links: StatusLinks,
    idempotency_key: str | None = None,
    staff: str | None = None,
    client: str | None = None,
) -> Submitted:
    """Check, decide, store, queue the receipt (and codes), audit `request.received`.

    `policy` is the version in force on the receipt day (`policy_in_force`); `staff` is the
    actor reference of a staff member entering a mail, phone or in-store request.
    """
    channel = _channel(channel)
    idem_hash, body_hash = _idempotency(vault, idempotency_key, data, channel)
    if idem_hash is not None:
        earlier = repository.by_idempotency_hash(db, idem_hash)
        if earlier is not None:
            if earlier.body_hash != body_hash:
                raise Conflict(
                    "Idempotency-Key: this key was used with a different request; "
                    "use a new key for a new request"
                )
            return Submitted(earlier, created=False)
    valid = validate(data)
    decision = _decide(valid, received_at, policy)
    original = _appeal_target(db, vault, valid, received_at) if valid.appeal_of else None
    # One savepoint around every row of the request: a concurrent twin with the same key makes
    # it roll back whole, so a caller that catches the Conflict never commits half a request.
    try:
        with db.begin_nested():
            request = _store(db, vault, valid, decision, policy, channel, received_at, staff)
            request.idempotency_hash, request.body_hash = idem_hash, body_hash
            request.appeal_of = original.id if original is not None else None
            db.flush()
    except IntegrityError:
        raise Conflict(
            "Idempotency-Key: a request with this key is being stored right now; retry"
        ) from None
    _start(db, vault, links, request, valid, received_at, staff or CONSUMER, client)
    return Submitted(request, created=True)


def policy_in_force(db: Session, on: datetime) -> PolicyVersion:
    from privacyops.policy.service import version_in_force

    return version_in_force(db, on.date())


@lru_cache(maxsize=8)
def _manifest(number: int, content_hash: str, raw: str) -> PolicyManifest:
    return PolicyManifest.model_validate(json.loads(raw))


def manifest_of(policy: PolicyVersion) -> PolicyManifest:
    return _manifest(policy.number, policy.content_hash, json.dumps(policy.manifest))


def _channel(channel: Channel | str) -> Channel:
    try:
        value = Channel(channel)
    except ValueError:
        raise _invalid("channel", f"one of {', '.join(c.value for c in Channel)}") from None
    return value


def _idempotency(
    vault: Vault, key: str | None, data: RequestIn, channel: Channel
) -> tuple[str | None, str | None]:
    if key is None:
        return None, None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise _invalid("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    body = json.dumps(
        {"channel": channel.value, "body": data.model_dump(mode="json")}, sort_keys=True
    )
    # Keyed: the body holds an email address, and a plain hash of it could be guessed.
    return hashlib.sha256(key.encode()).hexdigest(), keyed_hash(
        vault.ring.index_key, "dsr-idempotent-body", body
    )


def _decide(valid: ValidRequest, received_at: datetime, policy: PolicyVersion) -> Decision:
    manifest = manifest_of(policy)

    def run(via_agent: bool) -> Decision:
        return decide(
            valid.type,
            valid.state,
            received_at,
            manifest,
            specific_pieces=valid.specific_pieces,
            sensitive_deletion=valid.sensitive_deletion,
            via_agent=via_agent,
        )

    decision = run(valid.via_agent)
    if decision.allowed:
        return decision
    # Name the agent as the problem when the request itself would be accepted.
    field = "agent" if valid.via_agent and run(False).allowed else "type"
    raise _invalid(field, decision.reason)


def _appeal_target(
    db: Session, vault: Vault, valid: ValidRequest, received_at: datetime
) -> DataRequest:
    """The decision appealed: closed, within its appeal window, and made for the same email.

    Not found and not yours get one answer, so that references cannot be probed.
    """
    assert valid.appeal_of is not None
    unknown = _invalid("appeal_of", "no decided request with this reference for this email")
    original = repository.get_request(db, valid.appeal_of)
    if original is None or original.type == RequestType.appeal:
        raise unknown
    email_index = vault.blind_index(IdentityKind.email, valid.email)
    if (IdentityKind.email.value, email_index) not in repository.identity_indexes(db, original.id):
        raise unknown
    if original.status not in (Status.denied, Status.completed) or original.closed_at is None:
        raise _invalid("appeal_of", "this request is not decided yet; an appeal comes after")
    until = notices.appeal_until(original)
    if until is None:
        raise _invalid("appeal_of", "the law of your state gives no appeal of this decision")
    if received_at > until:
        days = Rules(original.rules_snapshot).appeal_days
        raise _invalid("appeal_of", f"the {days}-day appeal window of this decision has ended")
    if any(a.status != Status.canceled for a in repository.appeals_of(db, original.id)):
        raise _invalid("appeal_of", "this decision was already appealed")
    return original


def _subject_for(db: Session, vault: Vault, email: str) -> str:
    found = find_subject(db, vault, IdentityKind.email, email)
    if found is not None:
        return found.id
    subject, _ = get_or_create_subject(db, vault, {IdentityKind.email.value: email})
    record(db, AuditAction.subject_created, actor="system", subject=vault.subject_hash(subject.id))
    return subject.id


def _new_id(db: Session) -> str:
    while True:
        reference = new_reference()
        if repository.get_request(db, reference) is None:
            return reference


def _store(
    db: Session,
    vault: Vault,
    valid: ValidRequest,
    decision: Decision,
    policy: PolicyVersion,
    channel: Channel,
    received_at: datetime,
    staff: str | None,
) -> DataRequest:
    assert decision.deadline is not None
    request = DataRequest(
        id=_new_id(db),
        type=valid.type.value,
        state=valid.state,
        channel=channel.value,
        status=Status.received.value,
        subject_id=_subject_for(db, vault, valid.email),
        received_at=received_at,
        due_at=decision.deadline.due_at,
        verification=decision.verification.value,
        policy_version=policy.number,
        rules_snapshot=decision_json(decision),
        via_agent=valid.via_agent,
        specific_pieces=valid.specific_pieces,
        sensitive_deletion=valid.sensitive_deletion,
        access_format=valid.access_format,
        entered_by=staff,
        created_at=received_at,
    )
    repository.add(db, request)
    request.payload_ciphertext = seal_json(vault, request, "payload", valid.payload())
    for kind, value in valid.identities.items():
        identity_id = str(uuid.uuid4())
        repository.add(
            db,
            RequestIdentity(
                id=identity_id,
                request_id=request.id,
                kind=kind,
                blind_index=vault.blind_index(kind, value),
                ciphertext=vault.encrypt_for_subject(
                    request.subject_id, value, identity_context(identity_id, kind)
                ),
            ),
        )
    return request


def _start(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    valid: ValidRequest,
    now: datetime,
    actor: str,
    client: str | None,
) -> None:
    add_event(db, vault, request, actor=actor, action="received", now=now, to_status="received")
    channel = {"channel": request.channel}
    if request.verification == "none":
        # Opt-outs need no verification (11 CCR 7026(d)): honouring one harms no one.
        audit(
            db,
            vault,
            request,
            AuditAction.request_received,
            actor=actor,
            client=client,
            details=channel,
        )
        request.verified_at = now
        move(
            db,
            vault,
            request,
            Status.verified,
            actor=actor,
            action=AuditAction.request_verified,
            now=now,
            client=client,
        )
        _after_verified(db, vault, request, actor=actor, now=now, client=client)
    else:
        move(
            db,
            vault,
            request,
            Status.awaiting_verification,
            actor=actor,
            action=AuditAction.request_received,
            now=now,
            client=client,
            details=channel,
        )
        for identity in repository.identities_of(db, request.id):
            if identity.kind in CODE_KINDS:
                _send_code(db, vault, request, identity, valid.identities[identity.kind], now)
    notices.receipt(db, vault, links, request, details=valid.details, now=now)


def _after_verified(
    db: Session,
    vault: Vault,
    request: DataRequest,
    *,
    actor: str,
    now: datetime,
    client: str | None,
) -> None:
    target = Status.awaiting_review if needs_review(request) else Status.in_progress
    move(
        db,
        vault,
        request,
        target,
        actor=actor,
        action=AuditAction.request_verified,
        now=now,
        client=client,
    )


# --- verification --------------------------------------------------------------------------------


def _code_key(vault: Vault) -> bytes:
    return vault.ring.index_key


def _send_code(
    db: Session,
    vault: Vault,
    request: DataRequest,
    identity: RequestIdentity,
    value: str,
    now: datetime,
) -> VerificationCode:
    code = new_code()
    row = repository.code_for(db, identity.id)
    if row is None:
        row = VerificationCode(
            id=str(uuid.uuid4()), request_id=request.id, identity_id=identity.id, sends=0
        )
        db.add(row)
    row.code_hmac = code_hmac(_code_key(vault), row.id, code)
    row.expires_at = now + CODE_TTL
    row.attempts = 0
    row.used_at = None
    row.sends = (row.sends or 0) + 1
    row.last_sent_at = now
    db.flush()
    notices.code(db, vault, request, kind=identity.kind, to=value, code=code, now=now)
    return row


def _identity(db: Session, request: DataRequest, kind: str | None) -> RequestIdentity:
    wanted = (kind or IdentityKind.email.value).strip().lower()
    if wanted not in CODE_KINDS:
        raise _invalid("identity", "email or phone")
    for identity in repository.identities_of(db, request.id):
        if identity.kind == wanted:
            return identity
    raise _invalid("identity", f"this request has no {wanted}")


@dataclass(frozen=True)
class Verified:
    request: DataRequest
    identity: str
    complete: bool  # the request itself is verified


def verify(
    db: Session,
    vault: Vault,
    request_id: str,
    code: str,
    *,
    now: datetime,
    identity: str | None = None,
    extra_points: Mapping[str, str] | None = None,
    declaration_signed: bool = False,
    signer_name: str | None = None,
    client: str | None = None,
) -> Verified:
    """Check a code in constant time; 15 minutes, 5 attempts, used once.

    A wrong code raises `CodeRefused` after counting the attempt: the caller commits anyway.
    The email's code verifies the request (11 CCR 7062 "reasonable degree of certainty"); a
    phone's code verifies the phone, which is then used to search and linked to the subject.

    The stronger standard (`high`, 11 CCR 7062): the requester also gives further data points
    and signs a declaration under penalty of perjury. In this version nothing matches the data
    points automatically: they are sealed with the request for staff to compare against the
    records in review (a request on the stronger standard always goes to review), and the
    signed declaration is required before the code is even checked.
    """
    request = load(db, request_id, lock=True)
    target = _identity(db, request, identity)
    primary = target.kind == IdentityKind.email
    if request.status in CLOSED:
        raise Conflict(f"the request is {request.status}: there is nothing to verify")
    if primary and request.status != Status.awaiting_verification:
        raise _code_refused("this request is already verified")
    evidence = None
    if primary and request.verification == "high":
        evidence = _evidence(extra_points, declaration_signed, signer_name, now)
    row = repository.code_for(db, target.id)
    if row is None or target.verified_at is not None or row.used_at is not None:
        raise _code_refused("this code was already used")
    if row.attempts >= MAX_ATTEMPTS:
        raise _code_refused(
            "too many wrong attempts: this code no longer works; ask for a new code"
        )
    if now > row.expires_at:
        raise _code_refused("this code has expired; ask for a new code")
    clean = code.strip().replace(" ", "")
    if len(clean) != 6 or not clean.isdigit():
        raise _code_refused("enter the 6 digits of the code")
    if not code_matches(_code_key(vault), row.id, clean, row.code_hmac):
        row.attempts += 1
        db.flush()
        left = MAX_ATTEMPTS - row.attempts
        if left == 0:
            raise _code_refused("wrong code; no attempts left: ask for a new code")
        raise _code_refused(f"wrong code; {left} attempt{'s' if left != 1 else ''} left")
    row.used_at = now
    target.verified_at = now
    db.flush()
    if not primary:
        _link_identity(db, vault, request, target, now)
        add_event(
            db, vault, request, actor=CONSUMER, action="identity_verified", now=now, note=None
        )
        return Verified(request, target.kind, complete=request.verified_at is not None)
    if evidence is not None:
        request.evidence_ciphertext = seal_json(vault, request, "evidence", evidence)
    _match_loyalty(db, vault, request, now)
    request.verified_at = now
    move(
        db,
        vault,
        request,
        Status.verified,
        actor=CONSUMER,
        action=AuditAction.request_verified,
        now=now,
        client=client,
    )
    _after_verified(db, vault, request, actor=CONSUMER, now=now, client=client)
    return Verified(request, target.kind, complete=True)


def _evidence(
    extra_points: Mapping[str, str] | None,
    declaration_signed: bool,
    signer_name: str | None,
    now: datetime,
) -> dict[str, Any]:
    problems = []
    points = {
        k.strip(): v.strip() for k, v in (extra_points or {}).items() if k.strip() and v.strip()
    }
    if len(points) < MIN_EXTRA_POINTS:
        problems.append(
            FieldProblem(
                "extra_points",
                f"this request needs at least {MIN_EXTRA_POINTS} further pieces of information "
                "we hold about you (for example a recent order number and a card's last 4 digits)",
            )
        )
    if not declaration_signed:
        problems.append(
            FieldProblem(
                "declaration_signed",
                "sign the declaration, under penalty of perjury, that you are the person the "
                "request is about",
            )
        )
    if signer_name is None or not signer_name.strip():
        problems.append(FieldProblem("signer_name", "type your full name to sign the declaration"))
    if problems:
        raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems), problems)
    assert signer_name is not None
    return {
        "extra_points": points,
        "declaration_signed": True,
        "signer_name": signer_name.strip(),
        "signed_at": now.isoformat(),
        "matched": None,  # compared by staff in review
    }


def _match_loyalty(db: Session, vault: Vault, request: DataRequest, now: datetime) -> None:
    """A loyalty id cannot receive a code: it counts as verified when our records already tie it
    to the same person as the verified email. Otherwise it stays unverified and unused."""
    for identity in repository.identities_of(db, request.id):
        if identity.kind != IdentityKind.loyalty_id or identity.verified_at is not None:
            continue
        found = identity_repository.find_identities(db, [(identity.blind_index, identity.kind)])
        if found and found[0].subject_id == request.subject_id:
            identity.verified_at = now
    db.flush()


def _link_identity(
    db: Session, vault: Vault, request: DataRequest, identity: RequestIdentity, now: datetime
) -> None:
    """Link a verified identity to the subject, unless it belongs to another subject (then it
    is noted for staff: merging two people's records is a person's decision)."""
    value = identity_value(vault, request, identity)
    email = notices.requester_email(db, vault, request)
    if email is None:
        return
    try:
        get_or_create_subject(db, vault, {IdentityKind.email.value: email, identity.kind: value})
    except IdentitiesConflict:
        add_event(
            db,
            vault,
            request,
            actor="system",
            action="identity_conflict",
            now=now,
            note=f"the verified {identity.kind} belongs to another data subject; not linked",
        )


@dataclass(frozen=True)
class Resent:
    request: DataRequest
    identity: str
    sends_left: int


def resend_code(
    db: Session,
    vault: Vault,
    request_id: str,
    *,
    now: datetime,
    identity: str | None = None,
) -> Resent:
    """A new code (the old one stops working), at most 3 times, a minute apart."""
    request = load(db, request_id, lock=True)
    target = _identity(db, request, identity)
    if request.status not in OPEN or target.verified_at is not None:
        raise Conflict("there is nothing left to verify for this request")
    row = repository.code_for(db, target.id)
    if row is not None:
        if row.sends >= MAX_SENDS:
            raise TooManyRequests(
                "no more codes can be sent for this request; contact us to verify it", None
            )
        wait = row.last_sent_at + RESEND_INTERVAL - now
        if wait > timedelta(0):
            seconds = max(1, int(wait.total_seconds() + 0.999))
            raise TooManyRequests(f"wait {seconds} seconds before asking for a new code", seconds)
    value = identity_value(vault, request, target)
    sent = _send_code(db, vault, request, target, value, now)
    add_event(db, vault, request, actor=CONSUMER, action="code_resent", now=now)
    return Resent(request, target.kind, MAX_SENDS - sent.sends)


# --- reading -------------------------------------------------------------------------------------


def status_for_requester(
    db: Session, links: StatusLinks, request_id: str, token: str | None
) -> DataRequest:
    """The request, for whoever holds a valid status link; one answer for unknown and wrong."""
    request = repository.get_request(db, request_id) if links.check(request_id, token) else None
    if request is None:
        raise NotFound("no request found for this link; it may have expired")
    return request


MAX_PAGE = 200


@dataclass(frozen=True)
class RequestPage:
    items: list[DataRequest]
    total: int
    offset: int
    limit: int


def list_requests(
    db: Session, filters: repository.RequestFilters, offset: int = 0, limit: int = 50
) -> RequestPage:
    """Requests, soonest due first. No identity is shown, so listing is not a read of personal
    data (opening one is: `view_request`)."""
    problems = []
    if offset < 0:
        problems.append(FieldProblem("offset", "must be 0 or more"))
    if not 1 <= limit <= MAX_PAGE:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_PAGE}"))
    if filters.status is not None and filters.status not in {s.value for s in Status}:
        problems.append(FieldProblem("status", "unknown status"))
    if filters.type is not None and filters.type not in {t.value for t in RequestType}:
        problems.append(FieldProblem("type", "unknown request type"))
    if problems:
        raise InvalidInput("invalid fields: " + ", ".join(p.field for p in problems), problems)
    items = list(repository.search(db, filters, offset, limit))
    return RequestPage(items, repository.count(db, filters), offset, limit)


@dataclass(frozen=True)
class DueCounts:
    days: int
    due_soon: int  # open, due within `days` days and not yet overdue
    overdue: int  # open, past the (extended) due date


def due_counts(db: Session, now: datetime, days: int = 7) -> DueCounts:
    """What the console's dashboard shows: counts only, no identities."""
    open_ = tuple(s.value for s in OPEN)
    soon = repository.RequestFilters(
        statuses=open_, due_after=now, due_before=now + timedelta(days=days)
    )
    late = repository.RequestFilters(statuses=open_, due_before=now)
    return DueCounts(days, repository.count(db, soon), repository.count(db, late))


@dataclass(frozen=True)
class RequestView:
    request: DataRequest
    identities: list[tuple[RequestIdentity, str]]
    details: str | None
    corrections: list[dict[str, str]]
    agent: dict[str, str] | None
    evidence: dict[str, Any] | None
    denial_detail: str | None
    events: list[tuple[RequestEvent, str | None]]
    tasks: list[tuple[RequestTask, str | None]]
    datastore_tasks: list[CollectionTask] = field(default_factory=list)
    correctable_fields: list[str] = field(default_factory=list)
    erased: bool = False  # the subject was crypto-shredded: personal fields are gone


def view_request(
    db: Session, vault: Vault, request_id: str, *, actor: str, client: str | None = None
) -> RequestView:
    """Everything about one request, identities and free text in clear, for staff. Recorded as
    `request.viewed` (policy section 7: the log shows who read whose data).

    After an erasure the subject's key is gone: the request still shows its dates, statuses and
    the datastore figures (11 CCR 7101 keeps the record), with every personal field empty."""
    request = load(db, request_id)
    readable = vault.has_subject_key(request.subject_id)

    def opened(field: str, token: str | None) -> str | None:
        return unseal(vault, request, field, token) if token and readable else None

    payload = (
        unseal_json(vault, request, "payload", request.payload_ciphertext) if readable else None
    ) or {}
    view = RequestView(
        request=request,
        identities=[
            (identity, identity_value(vault, request, identity))
            for identity in repository.identities_of(db, request.id)
            if readable
        ],
        details=payload.get("details"),
        corrections=list(payload.get("corrections") or []),
        agent=payload.get("agent"),
        evidence=(
            unseal_json(vault, request, "evidence", request.evidence_ciphertext)
            if readable
            else None
        ),
        denial_detail=opened("denial_detail", request.denial_detail_ciphertext),
        events=[
            (e, opened(f"event:{e.id}", e.note_ciphertext))
            for e in repository.events_of(db, request.id)
        ],
        tasks=[
            (t, opened(f"task:{t.id}", t.result_ciphertext))
            for t in repository.tasks_of(db, request.id)
        ],
        datastore_tasks=list(repository.collection_tasks_of(db, request.id)),
        correctable_fields=_correctable(db, request),
        erased=not readable,
    )
    audit(db, vault, request, AuditAction.request_viewed, actor=actor, client=client)
    return view


def _correctable(db: Session, request: DataRequest) -> list[str]:
    if request.type != RequestType.correction:
        return []
    from privacyops.dsr.corrections import correctable_fields

    return correctable_fields(db)


def verified_identities(db: Session, vault: Vault, request: DataRequest) -> dict[str, str]:
    """The identities fulfilment may search with: only verified ones, never before the request
    itself is verified."""
    if request.verified_at is None:
        return {}
    return {
        identity.kind: identity_value(vault, request, identity)
        for identity in repository.identities_of(db, request.id)
        if identity.verified_at is not None
    }


# --- the requester's own view (the Privacy Center status page) ----------------------------------

# Events the requester sees besides transitions. Staff notes, task results and identity
# conflicts stay internal.
_PUBLIC_EVENTS = frozenset({"extended", "code_resent"})


@dataclass(frozen=True)
class PublicEvent:
    at: datetime
    action: str
    to_status: str | None


@dataclass(frozen=True)
class RequesterView:
    request: DataRequest
    events: list[PublicEvent]
    details: str | None  # the requester's own message
    denial_detail: str | None
    appeal_until: datetime | None  # end of the appeal window of a decided request
    appeal_open: bool  # an appeal can be made now (in the window, none made yet)
    appealed_by: str | None  # the reference of the appeal already made


def requester_view(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request_id: str,
    token: str | None,
    *,
    now: datetime,
) -> RequesterView:
    """What the holder of a status link sees: statuses and dates, never identities, staff notes
    or task results. The denial's detail is shown: the denial notice already gave it to the
    same person, and so did the receipt with the requester's own message. One answer
    (NotFound) for an unknown request and a wrong token."""
    request = status_for_requester(db, links, request_id, token)
    events = [
        PublicEvent(e.at, e.action, e.to_status)
        for e in repository.events_of(db, request.id)
        if e.to_status is not None or e.action in _PUBLIC_EVENTS
    ]
    details = detail = None
    # Once the subject's data is crypto-shredded, the request shows what is left without it.
    with contextlib.suppress(SubjectShredded):
        payload = unseal_json(vault, request, "payload", request.payload_ciphertext) or {}
        details = payload.get("details")
        if request.denial_detail_ciphertext:
            detail = unseal(vault, request, "denial_detail", request.denial_detail_ciphertext)
    until = notices.appeal_until(request)
    appeals = [a for a in repository.appeals_of(db, request.id) if a.status != Status.canceled]
    return RequesterView(
        request=request,
        events=events,
        details=details,
        denial_detail=detail,
        appeal_until=until,
        appeal_open=until is not None and now <= until and not appeals,
        appealed_by=appeals[0].id if appeals else None,
    )
