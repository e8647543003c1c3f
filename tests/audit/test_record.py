"""Recording events: each chains onto the one before, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit import repository
from privacyops.audit.actions import AuditAction
from privacyops.audit.chain import event_hash
from privacyops.audit.service import record
from privacyops.models.audit import GENESIS_HASH, AuditEvent


def test_events_chain_onto_their_predecessor(db: Session) -> None:
    first = record(db, AuditAction.staff_created, actor="cli", target="staff:1")
    second = record(db, AuditAction.staff_login, actor="staff:1", client="127.0.0.1")

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    head = repository.head(db)
    assert head is not None
    assert (head.seq, head.hash) == (2, second.hash)


def test_stored_event_hash_recomputes_after_a_round_trip(db: Session) -> None:
    record(db, AuditAction.audit_viewed, actor="staff:7", details={"filters": {"actor": "x"}})
    db.commit()
    db.expire_all()
    stored = db.scalars(select(AuditEvent)).one()
    recomputed = event_hash(
        seq=stored.seq,
        at=stored.at,
        actor=stored.actor,
        action=stored.action,
        subject=stored.subject,
        target=stored.target,
        client=stored.client,
        details=stored.details,
        prev_hash=stored.prev_hash,
    )
    assert recomputed == stored.hash
