"""The email-to-a-processor connector: a service provider reached only by mail (a mailing tool
without an API, a print shop), told what to erase, correct or stop, and asked to confirm.

How it behaves, per operation:

    retrieve        [] always: we cannot read a processor's system by mail. What it holds is
                    covered by the instruction to erase, not by the access package; the policy's
                    recipients section discloses that the processor receives the data.
    mask, delete    one *erasure* instruction per (request, datastore, collection): the first
                    call mails it and raises `AwaitingProcessor`; later calls raise it again
                    without mailing (idempotent) until the processor clicks the link; then they
                    return 0 (how many rows the processor changed is the processor's to know).
    correct         the same, with the corrected values in the mail.
    apply_opt_out   the same, one instruction per (request, datastore, kind).

An instruction belongs to a rights request, or to an opt-out passed on to an advertising or
marketing partner outside any request (a consent propagation task, `propagation_id`): the
connector is made for one or the other, and the mail, the audit events and the page name it.

Mailed instructions carry the person's identities (the processor must find them), so the mail
is encrypted in the outbox and its body erased once sent; the `ProcessorInstruction` row holds
no personal data, and only an HMAC of the acknowledgement token (keyed from the platform
secret), so a copy of the database cannot acknowledge anything.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import SYSTEM, record
from privacyops.connectors.port import CollectionSpec, ConnectorError, Row
from privacyops.db import unit_of_work
from privacyops.errors import InvalidInput, NotFound
from privacyops.identity.normalize import normalize_email
from privacyops.models.connectors import ProcessorInstruction
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.models.dsr import DataRequest
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.notify.outbox import queue_rendered, render_mail
from privacyops.rights.calendar import STATE_TIME_ZONES, add_business_days, local_date
from privacyops.rights.rules import OPT_OUT_BUSINESS_DAYS
from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from privacyops.web.templating import long_date

ACK_PATH = "/processors/ack"
TEMPLATE = "processor_instruction"
ERASE, CORRECT, OPT_OUT = "erase", "correct", "opt_out"
# What `secrets.token_urlsafe(32)` gives (43 characters), with room; anything else is refused
# before it reaches the database.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,86}")
_OPT_OUT_KIND = re.compile(r"[a-z][a-z0-9_]{0,23}")  # fits operation's 32 characters
_HMAC_DOMAIN = b"privacyops.processor-ack|"

IDENTITY_LABELS: dict[str, str] = {
    "email": "Email address",
    "phone": "Phone number",
    "loyalty_id": "Loyalty member id",
    "device_id": "Device id",
}
OPT_OUT_TEXT: dict[str, str] = {
    "sale": "Stop selling this person's personal information.",
    "sharing": "Stop sharing this person's personal information for cross-context behavioral "
    "advertising.",
    "targeted_advertising": "Stop using this person's personal information for targeted "
    "advertising.",
    "profiling": "Stop using this person's personal information for profiling in furtherance "
    "of decisions that produce legal or similarly significant effects.",
    "limit_sensitive": "Use this person's sensitive personal information only as needed to "
    "perform the services for us.",
}
ERASE_TEXT = (
    "Delete the personal information you hold about this person in the records named below, "
    "except what the law requires you to keep, and tell any of your own service providers "
    "holding it to do the same."
)
CORRECT_TEXT = "Correct the personal information you hold about this person as shown below."
# Where each deadline comes from, as the mail states it.
OPT_OUT_SOURCE = (
    f"{OPT_OUT_BUSINESS_DAYS} business days after we received the request: 11 CCR 7026(f), "
    "which we apply to every opt-out"
)
ERASE_SOURCE = (
    "the date we must answer the person by (Cal. Civ. Code 1798.130(a)(2)); we must tell our "
    "service providers to delete (Cal. Civ. Code 1798.105(c)(1), 11 CCR 7022(b)(3))"
)
CORRECT_SOURCE = (
    "the date we must answer the person by (Cal. Civ. Code 1798.130(a)(2)); we must instruct "
    "our service providers to correct (11 CCR 7023(c))"
)


class AwaitingProcessor(Exception):
    """The processor has an instruction and has not confirmed it yet: the engine keeps the work
    waiting (no staff task, no `needs_attention`) and asks again on its next run."""

    def __init__(
        self, datastore: str, operation: str, collection: str | None, sent_at: datetime
    ) -> None:
        where = f"{datastore}/{collection}" if collection else datastore
        super().__init__(
            f"{where}: waiting for the processor to confirm the {operation} instruction"
        )
        self.datastore = datastore
        self.operation = operation
        self.collection = collection
        self.sent_at = sent_at


@dataclass(frozen=True)
class AckLinks:
    """Acknowledgement links: a random token in the URL; only its HMAC is stored."""

    secret_key: str
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> AckLinks:
        return cls(load_secret_key(settings), settings.public_url.rstrip("/"))

    def token_hmac(self, token: str) -> str:
        return hmac.new(
            self.secret_key.encode("utf-8"), _HMAC_DOMAIN + token.encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def url(self, token: str) -> str:
        return f"{self.public_url}{ACK_PATH}/{token}"


def new_token() -> str:
    """256 random bits: the link is the processor's only credential, so it must not be guessed."""
    return secrets.token_urlsafe(32)


def propagation_reference(propagation_id: int) -> str:
    """How mails and pages name an opt-out passed on outside a request (no personal data)."""
    return f"OPT-{propagation_id}"


def instruction_reference(row: ProcessorInstruction) -> str:
    """The request's reference, or the opt-out task's."""
    if row.propagation_id is not None:
        return propagation_reference(row.propagation_id)
    return row.request_id or ""


@dataclass(frozen=True)
class _Owner:
    """What an instruction is for, with what its mail says of it: a rights request, or an
    opt-out task (a consent propagation)."""

    named: str  # "request R-...", "opt-out OPT-..." (the mail's subject line)
    reference: str
    subject_id: str
    organization: str
    due: date
    due_source: str
    request_id: str | None = None
    propagation_id: int | None = None


@dataclass(frozen=True)
class _Ask:
    """One instruction to mail: what, where, and the figures that go with it."""

    operation: str  # erase, correct, opt_out:<kind>
    collection: str  # "" for an opt-out (it is about the person, not a collection)
    what: str
    changes: tuple[tuple[str, str], ...] = ()


class EmailProcessorConnector:
    """The datastore of a processor reached by mail (see the module docstring)."""

    def __init__(
        self,
        name: str,
        to: str,
        *,
        request_id: str | None = None,
        propagation_id: int | None = None,
        identities: Mapping[str, str],
        session_factory: sessionmaker[Session],
        vault: Vault,
        links: AckLinks,
        instructions: str = "",
        label: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        try:
            self.to = normalize_email(str(to or ""), "config.to")
        except InvalidInput:
            raise ConnectorError(
                "config.to: the processor's address is not an email address", datastore=name
            ) from None
        if (request_id is None) == (propagation_id is None):
            raise ConnectorError(
                "an instruction is for one request or one opt-out task", datastore=name
            )
        self.name = name
        self.label = label or name
        self.request_id = request_id
        self.propagation_id = propagation_id
        self.identities = dict(identities)
        self.session_factory = session_factory
        self.vault = vault
        self.links = links
        self.instructions = instructions
        self.clock = clock

    # -- the port ------------------------------------------------------------------------------

    def test_connection(self) -> None:
        """Nothing to reach: the address was checked when the connector was made, and the mail
        itself goes through the outbox, which retries on its own."""

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        """Nothing: a processor reached by mail holds data we cannot read (see the docstring)."""
        return []

    def mask(
        self,
        collection: CollectionSpec,
        key_field: str,
        updates: Mapping[Any, Mapping[str, Any]],
    ) -> int:
        """Mask and delete are one instruction: the processor is told to erase, and decides how
        in its own system; asking twice would mail twice."""
        return self._instructed(_Ask(ERASE, collection.name, ERASE_TEXT))

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        return self._instructed(_Ask(ERASE, collection.name, ERASE_TEXT))

    def correct(
        self, collection: CollectionSpec, key_field: str, key: Any, changes: Mapping[str, Any]
    ) -> int:
        """One correction instruction per collection: `key` means nothing in the processor's
        system, the person is named by their identities."""
        listed = tuple(
            (str(name), "" if value is None else str(value)) for name, value in changes.items()
        )
        return self._instructed(_Ask(CORRECT, collection.name, CORRECT_TEXT, listed))

    def apply_opt_out(self, kind: str, identities: Mapping[str, str]) -> None:
        if not _OPT_OUT_KIND.fullmatch(kind or ""):
            raise ConnectorError(
                "opt-out kind: lower-case letters, digits and _ (at most 24)", datastore=self.name
            )
        what = OPT_OUT_TEXT.get(
            kind, f"Stop processing this person's personal information for {kind}."
        )
        self._instructed(_Ask(f"{OPT_OUT}:{kind}", "", what), identities)

    def close(self) -> None:
        """Nothing held open: every step is its own unit of work."""

    # -- instructions --------------------------------------------------------------------------

    def _instructed(self, ask: _Ask, extra: Mapping[str, str] | None = None) -> int:
        """0 once the processor confirmed; otherwise mail the instruction (first time only) and
        raise `AwaitingProcessor`."""
        found = self._existing(ask)
        if found is None:
            found = self._send(ask, {**self.identities, **(extra or {})})
        if found.acknowledged_at is not None:
            return 0
        raise AwaitingProcessor(self.name, ask.operation, ask.collection or None, found.sent_at)

    def _owned(self) -> ColumnElement[bool]:
        if self.propagation_id is not None:
            return ProcessorInstruction.propagation_id == self.propagation_id
        return ProcessorInstruction.request_id == self.request_id

    def _existing(self, ask: _Ask) -> ProcessorInstruction | None:
        with unit_of_work(self.session_factory) as db:
            found = find_instruction(db, self._owned(), self.name, ask.operation, ask.collection)
            if found is not None:
                db.expunge(found)
            return found

    def _send(self, ask: _Ask, identities: Mapping[str, str]) -> ProcessorInstruction:
        """Row, mail and audit event in one unit of work: all three or none. Two workers racing
        meet on the unique constraint; the loser's mail is rolled back with its row."""
        named = {kind: value for kind, value in identities.items() if value}
        if not named:
            raise ConnectorError(
                "no identity to name the person by in the instruction", datastore=self.name
            )
        try:
            with unit_of_work(self.session_factory) as db:
                row = self._record(db, ask, named)
                db.expunge(row)
                return row
        except IntegrityError:
            with unit_of_work(self.session_factory) as db:
                raced = find_instruction(
                    db, self._owned(), self.name, ask.operation, ask.collection
                )
                if raced is None:
                    raise
                db.expunge(raced)
                return raced

    def _record(
        self, db: Session, ask: _Ask, identities: Mapping[str, str]
    ) -> ProcessorInstruction:
        owner = self._owner(db, ask.operation)
        now = self.clock()
        token = new_token()
        row = ProcessorInstruction(
            request_id=owner.request_id,
            propagation_id=owner.propagation_id,
            datastore=self.name,
            operation=ask.operation,
            collection=ask.collection,
            token_hmac=self.links.token_hmac(token),
            sent_at=now,
        )
        db.add(row)
        db.flush()  # the unique constraint speaks before any mail is queued
        self._queue_mail(db, owner, ask, identities, token, now)
        record(
            db,
            AuditAction.processor_instructed,
            actor=SYSTEM,
            target=f"datastore:{self.name}",
            subject=self.vault.subject_hash(owner.subject_id),
            details=_audit_details(row),
        )
        return row

    def _owner(self, db: Session, operation: str) -> _Owner:
        if self.propagation_id is not None:
            task = db.get(ConsentPropagation, self.propagation_id)
            if task is None:
                raise ConnectorError(f"no opt-out task {self.propagation_id}", datastore=self.name)
            return _propagation_owner(db, task)
        request = db.get(DataRequest, self.request_id)
        if request is None:
            raise ConnectorError(f"no request {self.request_id}", datastore=self.name)
        due, source = instruction_deadline(request, operation)
        return _Owner(
            named=f"request {request.id}",
            reference=request.id,
            subject_id=request.subject_id,
            organization=_organization(db, request.policy_version),
            due=due,
            due_source=source,
            request_id=request.id,
        )

    def _queue_mail(
        self,
        db: Session,
        owner: _Owner,
        ask: _Ask,
        identities: Mapping[str, str],
        token: str,
        now: datetime,
    ) -> None:
        title = operation_title(ask.operation)
        # The subject is stored in clear with the queued mail: reference and operation only.
        subject = f"{owner.organization}: {title} for {owner.named}"
        rendered = render_mail(
            TEMPLATE,
            subject,
            organization=owner.organization,
            processor=self.label,
            reference=owner.reference,
            title=title,
            what=ask.what,
            collection=ask.collection,
            identities=[(IDENTITY_LABELS.get(k, k), v) for k, v in sorted(identities.items())],
            changes=list(ask.changes),
            due_on=long_date(owner.due),
            due_source=owner.due_source,
            instructions=self.instructions.strip(),
            ack_url=self.links.url(token),
            sent_on=long_date(now.date()),
        )
        queue_rendered(
            db,
            self.vault,
            to=self.to,
            rendered=rendered,
            template=TEMPLATE,
            request_id=owner.request_id,
            now=now,
        )


# -- the rules and queries the pages share -------------------------------------------------------


def operation_title(operation: str) -> str:
    """A few words for the mail's subject and the pages (no personal data)."""
    if operation == ERASE:
        return "Erasure instruction"
    if operation == CORRECT:
        return "Correction instruction"
    kind = operation.partition(":")[2].replace("_", " ")
    return f"Opt-out instruction ({kind})"


def instruction_deadline(request: DataRequest, operation: str) -> tuple[date, str]:
    """The day the processor must act by, and the rule it comes from.

    Opt-outs: 15 business days from receipt (11 CCR 7026(f)). Erasure and correction: the day
    the request must be answered (as extended), since the answer says the processors were told.
    """
    known = request.state in STATE_TIME_ZONES
    if operation.startswith(OPT_OUT + ":") and known:
        received = local_date(request.received_at, request.state)
        return add_business_days(received, OPT_OUT_BUSINESS_DAYS, request.state), OPT_OUT_SOURCE
    due = request.effective_due_at
    day = local_date(due, request.state) if known else due.date()
    return day, CORRECT_SOURCE if operation == CORRECT else ERASE_SOURCE


def _propagation_owner(db: Session, task: ConsentPropagation) -> _Owner:
    """An opt-out outside a request: due on the task's day, 15 business days after the choice
    was recorded (11 CCR 7026(f)), under the policy the choice was made under."""
    choice = db.get(ConsentRecord, task.record_id)
    reference = propagation_reference(task.id)
    return _Owner(
        named=f"opt-out {reference}",
        reference=reference,
        subject_id=task.subject_id,
        organization=_organization(db, choice.policy_version if choice is not None else None),
        due=task.due_on,
        due_source=OPT_OUT_SOURCE,
        propagation_id=task.id,
    )


def _organization(db: Session, policy_version: int | None) -> str:
    """The business's name as the policy the request (or choice) was made under gives it; a
    choice recorded without a version was made under the policy in force."""
    from privacyops.dsr.service import manifest_of, policy_in_force

    policy = db.scalar(select(PolicyVersion).where(PolicyVersion.number == policy_version))
    if policy is None and policy_version is None:
        try:
            policy = policy_in_force(db, utcnow())
        except NotFound:
            policy = None
    return manifest_of(policy).organization.name if policy is not None else "Privacy team"


def find_instruction(
    db: Session, owned: ColumnElement[bool], datastore: str, operation: str, collection: str
) -> ProcessorInstruction | None:
    """`owned`: the instruction's request or opt-out task (see `_owned`)."""
    return db.scalar(
        select(ProcessorInstruction).where(
            owned,
            ProcessorInstruction.datastore == datastore,
            ProcessorInstruction.operation == operation,
            ProcessorInstruction.collection == collection,
        )
    )


def instruction_for_token(db: Session, links: AckLinks, token: str) -> ProcessorInstruction | None:
    """The instruction a link names; None for a malformed, tampered or unknown token (the
    caller answers all three alike)."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    return db.scalar(
        select(ProcessorInstruction).where(
            ProcessorInstruction.token_hmac == links.token_hmac(token)
        )
    )


def acknowledge(
    db: Session,
    vault: Vault,
    instruction: ProcessorInstruction,
    *,
    now: datetime,
    client: str | None,
) -> bool:
    """Record the processor's confirmation once; False when it was already recorded.

    A conditional UPDATE, so two clicks at once record (and audit) one acknowledgement."""
    result = db.execute(
        update(ProcessorInstruction)
        .where(
            ProcessorInstruction.id == instruction.id,
            ProcessorInstruction.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return False
    db.refresh(instruction)
    subject_id = _subject_of(db, instruction)
    record(
        db,
        AuditAction.processor_acknowledged,
        actor=f"processor:{instruction.datastore}",
        target=f"datastore:{instruction.datastore}",
        subject=vault.subject_hash(subject_id) if subject_id is not None else None,
        client=client,
        details=_audit_details(instruction),
    )
    return True


def _subject_of(db: Session, row: ProcessorInstruction) -> str | None:
    if row.propagation_id is not None:
        task = db.get(ConsentPropagation, row.propagation_id)
        return task.subject_id if task is not None else None
    request = db.get(DataRequest, row.request_id) if row.request_id else None
    return request.subject_id if request is not None else None


def _audit_details(row: ProcessorInstruction) -> dict[str, Any]:
    """Which instruction, never who: the person is the event's `subject` (a keyed hash)."""
    details: dict[str, Any] = {
        "instruction": row.id,
        "request": row.request_id,
        "operation": row.operation,
        "collection": row.collection or None,
    }
    if row.propagation_id is not None:
        details["propagation"] = row.propagation_id
    return details
