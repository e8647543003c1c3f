"""Propagation: a person's opt-out of sale, sharing or targeted advertising is passed on to the
advertising and marketing partners the policy lists, through their datastores' connectors
(`apply_opt_out`), each a task due within 15 business days (11 CCR 7026(f): notify the third
parties the information was made available to), retried with back-off, every one audited.

Partners are the datastores connected for a policy recipient that buys, receives for sharing,
or works for a marketing or advertising purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record as audit
from privacyops.connectors import registry
from privacyops.connectors.manual import ManualTaskRequired
from privacyops.connectors.port import ConnectorError
from privacyops.consent.purposes import SALE, TARGETED
from privacyops.db import unit_of_work
from privacyops.identity.service import reveal_identities
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.policy.manifest import PolicyManifest
from privacyops.rights.rules import add_business_days
from privacyops.vault.service import SubjectShredded, Vault

DUE_BUSINESS_DAYS = 15  # 11 CCR 7026(f)
BACKOFF = (60, 300, 1800, 7200, 21600)
# What each opted-out purpose means to a partner (the connector's `apply_opt_out` kinds).
KINDS: dict[str, tuple[str, ...]] = {SALE: ("sale",), TARGETED: ("sharing", "targeted_advertising")}


def partners(manifest: PolicyManifest) -> set[str]:
    """Policy recipients an opt-out must reach: those that buy or receive for sharing, and
    those working for a marketing or advertising purpose."""
    marketing = {
        p.key for p in manifest.purposes if any(u.startswith("marketing") for u in p.data_uses)
    }
    return {r.key for r in manifest.recipients if r.sale or r.share or set(r.purposes) & marketing}


def schedule(
    db: Session, entry: ConsentRecord, manifest: PolicyManifest, at: datetime
) -> list[ConsentPropagation]:
    """Tasks for an opt-out of a person; nothing for a yes, a browser alone, or no partner."""
    if entry.allowed or entry.subject_id is None or entry.purpose not in KINDS:
        return []
    wanted = partners(manifest)
    due = add_business_days(at.date(), DUE_BUSINESS_DAYS, entry.state or "CA")
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
                status="pending",
                attempts=0,
                due_on=due,
                created_at=at,
            )
            db.add(task)
            made.append(task)
    db.flush()
    return made


@dataclass(frozen=True)
class _Work:
    id: int
    subject_id: str
    datastore: str
    kind: str


def due(db: Session, at: datetime, limit: int = 200) -> list[_Work]:
    query = (
        select(ConsentPropagation)
        .where(
            or_(
                ConsentPropagation.status == "pending",
                (ConsentPropagation.status == "failed")
                & (ConsentPropagation.next_attempt_at <= at),
            )
        )
        .order_by(ConsentPropagation.id)
        .limit(limit)
    )
    return [_Work(t.id, t.subject_id, t.datastore, t.kind) for t in db.scalars(query)]


def run_due(factory: sessionmaker[Session], vault: Vault, at: datetime) -> int:
    """Pass on every due opt-out, one committed outcome at a time; returns how many were done.

    Idempotent: a partner told twice of the same opt-out changes nothing at its end, and a
    task done is never picked again."""
    with unit_of_work(factory) as db:
        work = due(db, at)
        settings = {
            store.key: registry.connector_settings(db, vault, store)
            for store in registry.enabled(db)
        }
    done = 0
    for item in work:
        done += _pass_on(factory, vault, settings, item, at)
    return done


def _pass_on(
    factory: sessionmaker[Session],
    vault: Vault,
    settings: dict[str, registry.ConnectorSettings],
    item: _Work,
    at: datetime,
) -> int:
    error: str | None = None
    status = "done"
    with unit_of_work(factory) as db:
        try:
            identities = {k: v[0] for k, v in reveal_identities(db, vault, item.subject_id).items()}
        except SubjectShredded:
            identities = {}
    if item.datastore not in settings:
        status, error = "failed", f"{item.datastore}: the datastore is no longer connected"
    elif not identities:
        status, error = "done", "the person was erased: nothing left to pass on"
    else:
        connector = registry.open_connector(settings[item.datastore])
        try:
            connector.apply_opt_out(item.kind, identities)
        except ManualTaskRequired as manual:
            status, error = "manual", str(manual)
        except ConnectorError as failure:
            status, error = "failed", str(failure)
        finally:
            connector.close()
    with unit_of_work(factory) as db:
        task = db.get_one(ConsentPropagation, item.id)
        task.status, task.last_error = status, error
        if status == "failed":
            task.attempts += 1
            task.next_attempt_at = at + timedelta(
                seconds=BACKOFF[min(task.attempts, len(BACKOFF)) - 1]
            )
        if status == "done":
            task.done_at = at
        audit(
            db,
            AuditAction.consent_propagated,
            actor="system",
            subject=vault.subject_hash(item.subject_id),
            target=f"datastore:{item.datastore}",
            details={"kind": item.kind, "status": status, "record": task.record_id},
        )
    return 1 if status == "done" else 0
