"""Propagation: a person's opt-out of sale, sharing or targeted advertising is passed on to the
advertising and marketing partners the policy lists, through their datastores' connectors
(`apply_opt_out`), each a task due within 15 business days (11 CCR 7026(f): notify the third
parties the information was made available to), retried with back-off, every one audited.

Partners are the datastores connected for a policy recipient that buys, receives for sharing,
or works for a marketing or advertising purpose.

A task's life (`status`):

    pending           scheduled; the next run tells the partner.
    done              the partner took it (its API answered, or it confirmed a mailed
                      instruction), or staff carried it out and said what they did.
    failed            the partner could not be reached; tried again after a back-off.
    manual            a person must do it (a manual datastore): staff close it by hand.
    awaiting_partner  a partner reached by mail has its instruction (mailed once, with a link to
                      confirm) and has not confirmed yet; the confirmation makes it done.

A task still open after its due day is overdue (see `overdue_clause`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record as audit
from privacyops.connectors import registry
from privacyops.connectors.email import AckLinks, AwaitingProcessor
from privacyops.connectors.manual import ManualTaskRequired
from privacyops.connectors.port import ConnectorError
from privacyops.consent.purposes import SALE, TARGETED
from privacyops.db import unit_of_work
from privacyops.identity.service import reveal_identities
from privacyops.models.connectors import ProcessorInstruction
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.policy.manifest import PolicyManifest
from privacyops.rights.calendar import STATE_TIME_ZONES, local_date
from privacyops.rights.rules import add_business_days
from privacyops.vault.service import SubjectShredded, Vault

DUE_BUSINESS_DAYS = 15  # 11 CCR 7026(f)
BACKOFF = (60, 300, 1800, 7200, 21600)
# What each opted-out purpose means to a partner (the connector's `apply_opt_out` kinds).
KINDS: dict[str, tuple[str, ...]] = {SALE: ("sale",), TARGETED: ("sharing", "targeted_advertising")}

PENDING, DONE, FAILED, MANUAL, AWAITING = "pending", "done", "failed", "manual", "awaiting_partner"
STATUSES = (PENDING, AWAITING, MANUAL, FAILED, DONE)
OPEN = frozenset({PENDING, AWAITING, MANUAL, FAILED})
# The calendar of a choice recorded without a state: California's, the strictest we apply.
FALLBACK_STATE = "CA"


def partners(manifest: PolicyManifest) -> set[str]:
    """Policy recipients an opt-out must reach: those that buy or receive for sharing, and
    those working for a marketing or advertising purpose."""
    marketing = {
        p.key for p in manifest.purposes if any(u.startswith("marketing") for u in p.data_uses)
    }
    return {r.key for r in manifest.recipients if r.sale or r.share or set(r.purposes) & marketing}


def calendar_state(state: str | None) -> str:
    """The state whose calendar a choice's deadline is counted in."""
    code = (state or "").strip().upper()
    return code if code in STATE_TIME_ZONES else FALLBACK_STATE


def schedule(
    db: Session, entry: ConsentRecord, manifest: PolicyManifest, at: datetime
) -> list[ConsentPropagation]:
    """Tasks for an opt-out of a person; nothing for a yes, a browser alone, or no partner.

    Due 15 business days after the day the choice was recorded in the person's state
    (11 CCR 7026(f)), as a rights request's days are counted."""
    if entry.allowed or entry.subject_id is None or entry.purpose not in KINDS:
        return []
    wanted = partners(manifest)
    state = calendar_state(entry.state)
    due = add_business_days(local_date(at, state), DUE_BUSINESS_DAYS, state)
    made = []
    for store in registry.enabled(db):
        if store.recipient not in wanted:
            continue
        for kind in KINDS[entry.purpose]:
            task = ConsentPropagation(
                record_id=entry.id,
                subject_id=entry.subject_id,
                datastore=store.key,
                recipient=str(store.recipient),
                kind=kind,
                status=PENDING,
                attempts=0,
                due_on=due,
                created_at=at,
            )
            db.add(task)
            made.append(task)
    db.flush()
    return made


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Open, and its due day over in the calendar it was counted in (the state of the choice;
    the fallback's when none). Needs `ConsentRecord` joined. A due day ends at midnight in the
    state, so the same instant is overdue for New York and not yet for California; the states
    are grouped by time zone to keep the query short."""
    zones: dict[str, list[str]] = {}
    for code, zone in STATE_TIME_ZONES.items():
        zones.setdefault(zone, []).append(code)
    state = func.upper(ConsentRecord.state)
    fallback = STATE_TIME_ZONES[FALLBACK_STATE]
    past_due = []
    for zone, codes in zones.items():
        where: ColumnElement[bool] = state.in_(codes)
        if zone == fallback:
            where = or_(where, ConsentRecord.state.is_(None), state.not_in(list(STATE_TIME_ZONES)))
        today = local_date(now, codes[0])
        past_due.append(and_(where, ConsentPropagation.due_on < today))
    return and_(ConsentPropagation.status.in_(sorted(OPEN)), or_(*past_due))


def audited(
    db: Session,
    vault: Vault,
    task: ConsentPropagation,
    *,
    actor: str,
    client: str | None = None,
    step: str | None = None,
) -> None:
    """One `consent.propagated` event per change of a task, by the worker or by staff. Names
    the partner and the kind, never the person (the subject is a keyed hash)."""
    details: dict[str, object] = {
        "propagation": task.id,
        "kind": task.kind,
        "status": task.status,
        "record": task.record_id,
    }
    if step is not None:
        details["step"] = step
    audit(
        db,
        AuditAction.consent_propagated,
        actor=actor,
        subject=vault.subject_hash(task.subject_id),
        target=f"datastore:{task.datastore}",
        client=client,
        details=details,
    )


# -- the worker ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Work:
    id: int
    subject_id: str
    datastore: str
    kind: str
    status: str


@dataclass(frozen=True)
class _Outcome:
    status: str
    message: str | None = None
    step: str | None = None


def due(db: Session, at: datetime, limit: int = 200) -> list[_Work]:
    """Pending tasks, failed ones past their back-off, and those waiting for a partner that has
    since confirmed (the others waiting are not picked: nothing to do until the partner acts)."""
    confirmed = exists().where(
        ProcessorInstruction.propagation_id == ConsentPropagation.id,
        ProcessorInstruction.acknowledged_at.is_not(None),
    )
    query = (
        select(ConsentPropagation)
        .where(
            or_(
                ConsentPropagation.status == PENDING,
                (ConsentPropagation.status == FAILED) & (ConsentPropagation.next_attempt_at <= at),
                (ConsentPropagation.status == AWAITING) & confirmed,
            )
        )
        .order_by(ConsentPropagation.id)
        .limit(limit)
    )
    return [_Work(t.id, t.subject_id, t.datastore, t.kind, t.status) for t in db.scalars(query)]


def run_due(factory: sessionmaker[Session], vault: Vault, at: datetime, links: AckLinks) -> int:
    """Pass on every due opt-out, one committed outcome at a time; returns how many were done.

    Idempotent: a partner told twice of the same opt-out changes nothing at its end, a partner
    reached by mail gets one instruction per task however often this runs (or dies half-way),
    and a task done is never picked again."""
    with unit_of_work(factory) as db:
        work = due(db, at)
        settings = {
            store.key: registry.connector_settings(db, vault, store)
            for store in registry.enabled(db)
        }
    done = 0
    for item in work:
        if item.status == AWAITING:  # picked only once the partner confirmed
            outcome = _Outcome(DONE, None, "confirmed_by_partner")
        else:
            outcome = _tell(factory, vault, links, settings, item)
        done += _settle(factory, vault, item, outcome, at)
    return done


def _tell(
    factory: sessionmaker[Session],
    vault: Vault,
    links: AckLinks,
    settings: dict[str, registry.ConnectorSettings],
    item: _Work,
) -> _Outcome:
    with unit_of_work(factory) as db:
        try:
            identities = {k: v[0] for k, v in reveal_identities(db, vault, item.subject_id).items()}
        except SubjectShredded:
            identities = {}
    if item.datastore not in settings:
        return _Outcome(FAILED, f"{item.datastore}: the datastore is no longer connected")
    if not identities:
        return _Outcome(DONE, "the person was erased: nothing left to pass on")
    # A partner reached by mail records its instruction against this task, not a request.
    context = registry.RequestContext(
        None, identities, factory, vault, links, propagation_id=item.id
    )
    connector = registry.open_connector(settings[item.datastore], context)
    try:
        connector.apply_opt_out(item.kind, identities)
    except ManualTaskRequired as manual:
        return _Outcome(MANUAL, f"{manual}. {manual.instructions}".strip())
    except AwaitingProcessor as waiting:
        return _Outcome(AWAITING, str(waiting))
    except ConnectorError as failure:
        return _Outcome(FAILED, str(failure))
    finally:
        connector.close()
    return _Outcome(DONE)


def _settle(
    factory: sessionmaker[Session], vault: Vault, item: _Work, outcome: _Outcome, at: datetime
) -> int:
    """Record the outcome, unless staff changed the task meanwhile (closed it by hand): their
    word stands. The task is locked so a staff action and this do not interleave."""
    with unit_of_work(factory) as db:
        task = db.get_one(ConsentPropagation, item.id, with_for_update=True)
        if task.status != item.status:
            return 0
        task.status = outcome.status
        task.last_error = outcome.message[:500] if outcome.message else None
        if outcome.status == FAILED:
            task.attempts += 1
            task.next_attempt_at = at + timedelta(
                seconds=BACKOFF[min(task.attempts, len(BACKOFF)) - 1]
            )
        if outcome.status == DONE:
            task.done_at = at
            task.next_attempt_at = None
        audited(db, vault, task, actor="system", step=outcome.step)
    return 1 if outcome.status == DONE else 0
