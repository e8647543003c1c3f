"""Choices taken on a person's behalf, and what staff see of a person's consent.

Three ways in, one set of rules: customer-service staff (the console, or the API with a session:
`Method.staff`), the retailer's systems (the API with a token: `Method.api`) and files from an
earlier consent system (`privacyops consent import`: `Method.import_`). Each choice is checked
whole (every problem named by field), the person is found or created through the vault's blind
index, and the ledger decides whether it becomes the current decision: a choice dated before the
person's latest one is kept in the history only.

Plain Python; the caller commits. Every read and every change is audited here, with the
person as the vault's keyed hash, never an email or phone number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record as audit
from privacyops.consent import ledger
from privacyops.consent.ledger import MAX_WORDING, Decision, Evidence, Method, Who
from privacyops.consent.purposes import PURPOSES, Purpose
from privacyops.errors import FieldProblem, InvalidInput, NotFound
from privacyops.identity.normalize import IdentityKind, normalize
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.models.identity import DataSubject
from privacyops.policy.states import US_STATES
from privacyops.vault.service import Vault

# The retailer's clocks and ours may differ by a little; a choice further ahead than this is a
# mistake, and would outrank every choice made until then.
CLOCK_SKEW = timedelta(minutes=5)
HISTORY_SHOWN = 200
PROPAGATIONS_SHOWN = 200
# The purposes a person chooses (cookie classes are chosen per browser, in the banner).
PERSON_PURPOSES: dict[str, Purpose] = {p.key: p for p in PURPOSES}
ANSWERS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _invalid(problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput("; ".join(p.render() for p in problems), problems)


# -- a choice, checked -------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """How the person is known to whoever took the choice: an email or a phone, normalised."""

    kind: IdentityKind
    value: str = field(repr=False)  # personal data: never in a log line or a traceback


@dataclass(frozen=True)
class Choice:
    """A choice for one purpose, checked: a purpose a person can choose, the moment (None: now)
    not in the future, the person's state a US one."""

    purpose: str
    allowed: bool
    recorded_at: datetime | None = None
    wording: str | None = None
    state: str | None = None


def one_identity(email: str | None, phone: str | None) -> Identity:
    """Exactly one of email and phone, normalised (the error never repeats the value)."""
    email, phone = (email or "").strip(), (phone or "").strip()
    if bool(email) == bool(phone):
        raise _invalid([FieldProblem("email", "give exactly one of email or phone")])
    kind = IdentityKind.email if email else IdentityKind.phone
    return Identity(kind, normalize(kind, email or phone, kind.value))


def check_choice(
    *,
    purpose: str,
    allowed: bool | None,
    recorded_at: datetime | None,
    wording: str | None,
    state: str | None,
    now: datetime,
    wording_required: bool,
) -> Choice:
    """The choice, or `InvalidInput` naming every field that is wrong."""
    problems = _purpose_problems(purpose)
    if allowed is None:
        problems.append(FieldProblem("allowed", "required: yes or no"))
    at = _utc(recorded_at) if recorded_at is not None else None
    if at is not None and at > now + CLOCK_SKEW:
        problems.append(FieldProblem("recorded_at", "cannot be in the future"))
    said = (wording or "").strip() or None
    if said is None and wording_required:
        message = "required: what the person said or was shown, in their words"
        problems.append(FieldProblem("wording", message))
    if said is not None and len(said) > MAX_WORDING:
        problems.append(FieldProblem("wording", f"at most {MAX_WORDING} characters"))
    region = (state or "").strip().upper() or None
    if region is not None and region not in US_STATES:
        problems.append(FieldProblem("state", "not a US state code (two letters, such as CA)"))
    if problems:
        raise _invalid(problems)
    assert allowed is not None
    return Choice(purpose, allowed, at, said, region)


def check_identified_choice(
    *, email: str | None, phone: str | None, **choice: Any
) -> tuple[Identity, Choice]:
    """The person's identity and their choice, every problem of both named at once."""
    problems: list[FieldProblem] = []
    identity = checked = None
    try:
        identity = one_identity(email, phone)
    except InvalidInput as invalid:
        problems += invalid.problems
    try:
        checked = check_choice(**choice)
    except InvalidInput as invalid:
        problems += invalid.problems
    if identity is None or checked is None:
        raise _invalid(problems)
    return identity, checked


def _purpose_problems(key: str) -> list[FieldProblem]:
    try:
        ledger.checked_purpose(key)
    except InvalidInput as invalid:
        return invalid.problems
    if key not in PERSON_PURPOSES:
        known = ", ".join(PERSON_PURPOSES)
        return [FieldProblem("purpose", f"cookie choices are made per browser; one of: {known}")]
    return []


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- recording ---------------------------------------------------------------------------------


def someone(db: Session, vault: Vault, identity: Identity) -> Who:
    """The person known by this identity, created if unknown (a caller asking to stop emails
    needs a record to hold the choice)."""
    return ledger.person_or_new(db, vault, identity.kind, identity.value, identity.kind)


def record_choice(
    db: Session,
    vault: Vault,
    who: Who,
    choice: Choice,
    method: Method,
    *,
    actor: str,
    client: str | None,
    now: datetime,
) -> ConsentRecord:
    """Record a choice staff or the retailer's systems took for a person.

    No client address is kept as evidence: the client is the staff member or the retailer's
    system, not the person; `actor` says who entered it and `wording` what the person said."""
    entry = _record(db, who, choice, method, actor=actor, now=now)
    audit(
        db,
        AuditAction.consent_recorded,
        actor=actor,
        subject=vault.subject_hash(str(who.subject_id)),
        target=f"consent_record:{entry.id}",
        client=client,
        details={"purpose": entry.purpose, "allowed": entry.allowed, "method": entry.method},
    )
    return entry


def _record(
    db: Session, who: Who, choice: Choice, method: Method, *, actor: str, now: datetime
) -> ConsentRecord:
    at = choice.recorded_at or now
    return ledger.record(
        db,
        who,
        choice.purpose,
        choice.allowed,
        method,
        actor=actor,
        at=at,
        policy_version=ledger.policy_version_at(db, at),
        state=choice.state,
        evidence=Evidence(choice.wording),
    )


def is_current(db: Session, who: Who, entry: ConsentRecord) -> bool:
    return ledger.decide(db, who, entry.purpose).record_id == entry.id


# -- looking a person up -----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonView:
    """What staff see of a person: a decision per purpose, the records behind them (GPC
    conflicts pointing at the yes they overrode) and the opt-outs passed on to partners."""

    who: Who | None
    decisions: list[Decision]
    history: list[ConsentRecord]
    propagations: list[ConsentPropagation]

    @property
    def known(self) -> bool:
        return self.who is not None

    @property
    def conflicts(self) -> list[ConsentRecord]:
        return [entry for entry in self.history if entry.overrides_record is not None]


def find(db: Session, vault: Vault, email: str | None, phone: str | None) -> Who | None:
    """The person with this email or phone, or None; nobody is created by looking."""
    identity = one_identity(email, phone)
    return ledger.person(db, vault, identity.kind, identity.value, identity.kind)


def person_by_id(db: Session, subject_id: str) -> Who:
    if len(subject_id) > 36 or db.get(DataSubject, subject_id) is None:
        raise NotFound("no such person")
    return Who(subject_id=subject_id)


def view(
    db: Session,
    vault: Vault,
    who: Who | None,
    *,
    state: str | None,
    actor: str,
    client: str | None,
) -> PersonView:
    """The person's consent, recorded as `consent.viewed` (who looked, at whom: a keyed hash).
    An unknown person gets the defaults, and the lookup is recorded without a subject."""
    found = PersonView(
        who,
        [ledger.decide(db, who, key, state) for key in PERSON_PURPOSES],
        ledger.history(db, who, HISTORY_SHOWN) if who is not None else [],
        _propagations(db, who),
    )
    audit(
        db,
        AuditAction.consent_viewed,
        actor=actor,
        subject=vault.subject_hash(who.subject_id) if who and who.subject_id else None,
        client=client,
        details={"known": found.known},
    )
    return found


def _propagations(db: Session, who: Who | None) -> list[ConsentPropagation]:
    if who is None or who.subject_id is None:
        return []
    query = (
        select(ConsentPropagation)
        .where(ConsentPropagation.subject_id == who.subject_id)
        .order_by(ConsentPropagation.id.desc())
        .limit(PROPAGATIONS_SHOWN)
    )
    return list(db.scalars(query))


def receipt_path(record_id: int) -> str:
    return f"/api/v1/consent/records/{record_id}/receipt"


# -- importing a file --------------------------------------------------------------------------

COLUMNS = ("email", "phone", "purpose", "allowed", "recorded_at", "wording", "state")
REQUIRED_COLUMNS = ("purpose", "allowed")


@dataclass(frozen=True)
class ImportRow:
    line: int
    identity: Identity
    choice: Choice


def read_import(data: bytes, name: str, now: datetime) -> list[ImportRow]:
    """Every row of a CSV file checked before anything is written: the rows, or
    `InvalidInput` with every problem as `FILE:LINE: field: message` (the header is line 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise _invalid([FieldProblem("file", "not UTF-8 text", line, name)]) from None
    reader = csv.reader(io.StringIO(text, newline=""))

    def numbered() -> Iterator[tuple[int, list[str]]]:
        """Each row with the line it starts on (a quoted value may span lines)."""
        end = reader.line_num
        for values in reader:
            yield end + 1, values
            end = reader.line_num

    try:
        header = [column.strip().lower() for column in next(reader, [])]
        problems = _header_problems(header)
        if problems:
            raise _invalid([replace(p, line=1, file=name) for p in problems])
        rows, problems = _rows(numbered(), header, now)
    except csv.Error as bad:
        problem = FieldProblem("csv", f"unreadable: {bad}", reader.line_num, name)
        raise _invalid([problem]) from None
    if problems:
        raise _invalid([replace(p, file=name) for p in problems])
    return rows


def _header_problems(header: list[str]) -> list[FieldProblem]:
    if not any(header):
        return [FieldProblem("header", f"the file has no header line ({', '.join(COLUMNS)})")]
    problems = [
        FieldProblem(column or "header", f"unknown column; the columns are {', '.join(COLUMNS)}")
        for column in header
        if column not in COLUMNS
    ]
    problems += [
        FieldProblem(column, "this column appears more than once")
        for column in sorted({c for c in header if header.count(c) > 1})
    ]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    problems += [FieldProblem(column, "missing column") for column in missing]
    if "email" not in header and "phone" not in header:
        problems.append(FieldProblem("email", "missing column: email or phone"))
    return problems


def _rows(
    lines: Iterable[tuple[int, list[str]]], header: list[str], now: datetime
) -> tuple[list[ImportRow], list[FieldProblem]]:
    rows: list[ImportRow] = []
    problems: list[FieldProblem] = []
    for start, values in lines:
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            message = f"{len(values)} values for {len(header)} columns"
            problems.append(FieldProblem("row", message, start))
            continue
        try:
            row = dict(zip(header, values, strict=True))
            rows.append(ImportRow(start, *_row_choice(row, now)))
        except InvalidInput as invalid:
            problems += [replace(p, line=start) for p in invalid.problems]
    return rows, problems


def _row_choice(row: Mapping[str, str], now: datetime) -> tuple[Identity, Choice]:
    problems: list[FieldProblem] = []
    answer = row["allowed"].strip().lower()
    allowed = ANSWERS.get(answer)
    if allowed is None and answer:
        problems.append(FieldProblem("allowed", "one of yes, no, true, false, 1, 0"))
    moment = None
    if row.get("recorded_at", "").strip():
        try:
            moment = datetime.fromisoformat(row["recorded_at"].strip())
        except ValueError:
            message = "an ISO 8601 date and time, such as 2024-05-01T09:30:00Z"
            problems.append(FieldProblem("recorded_at", message))
    try:
        found = check_identified_choice(
            email=row.get("email"),
            phone=row.get("phone"),
            purpose=row["purpose"].strip(),
            allowed=allowed,
            recorded_at=moment,
            wording=row.get("wording"),
            state=row.get("state"),
            now=now,
            wording_required=False,
        )
    except InvalidInput as invalid:
        # A bad value already named is not reported a second time as missing.
        named = {p.field for p in problems}
        problems += [p for p in invalid.problems if p.field not in named]
    if problems:
        order = {name: n for n, name in enumerate(COLUMNS)}
        raise _invalid(sorted(problems, key=lambda p: order.get(p.field, len(order))))
    return found


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do): counts only, no personal data."""

    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    history_only: int = 0  # dated before the person's current decision: kept, not current
    people_created: int = 0
    dry_run: bool = False
    _seen: set[tuple[object, ...]] = field(default_factory=set, repr=False)

    def details(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "recorded": self.recorded,
            "already_recorded": self.already_recorded,
            "history_only": self.history_only,
            "people_created": self.people_created,
        }


def import_choices(
    db: Session,
    vault: Vault,
    rows: list[ImportRow],
    *,
    now: datetime,
    actor: str = "cli",
    dry_run: bool = False,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Record checked rows as `Method.import_`, in the caller's transaction.

    Idempotent, so the same file can be imported again: a row is skipped when an imported record
    of the same person, purpose and choice exists at the same moment, or, for a row without a
    date, at any moment (an undated row says what the earlier system held; once recorded, a
    second reading of it must neither duplicate it nor outrank a choice made since). A dry run
    looks people up and counts, and writes nothing (no person, record or audit event)."""
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    people: dict[Identity, Who | None] = {}
    for row in rows:
        _import_row(db, vault, row, result, people, now=now, actor=actor)
        if on_row is not None:
            on_row()
    if not dry_run:
        audit(db, AuditAction.consent_imported, actor=actor, details=result.details())
    return result


def _import_row(
    db: Session,
    vault: Vault,
    row: ImportRow,
    result: ImportResult,
    people: dict[Identity, Who | None],
    *,
    now: datetime,
    actor: str,
) -> None:
    identity, choice = row.identity, row.choice
    if identity not in people:
        people[identity] = ledger.person(db, vault, identity.kind, identity.value, identity.kind)
        if people[identity] is None:
            result.people_created += 1
            if not result.dry_run:
                people[identity] = someone(db, vault, identity)
    who = people[identity]
    same = (identity, choice.purpose, choice.allowed, choice.recorded_at)
    if same in result._seen or (who is not None and _imported_before(db, who, choice)):
        result.already_recorded += 1
        return
    result._seen.add(same)
    result.recorded += 1
    if result.dry_run or who is None:
        return
    entry = _record(db, who, choice, Method.import_, actor=actor, now=now)
    if not is_current(db, who, entry):
        result.history_only += 1


def _imported_before(db: Session, who: Who, choice: Choice) -> bool:
    query = select(ConsentRecord.id).where(
        ConsentRecord.subject_id == who.subject_id,
        ConsentRecord.purpose == choice.purpose,
        ConsentRecord.allowed.is_(choice.allowed),
        ConsentRecord.method == Method.import_.value,
    )
    if choice.recorded_at is not None:
        query = query.where(ConsentRecord.recorded_at == choice.recorded_at)
    return db.scalar(query.limit(1)) is not None
