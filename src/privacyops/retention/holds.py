"""Legal holds: a subject whose data must not be erased (litigation, an investigation).

An erasure of a held subject changes nothing in any datastore and does not shred the
subject's key; its result says why. Placing and releasing a hold are audited; the hold names
the subject by id only (the vault's blind index finds it from an email).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.errors import FieldProblem, InvalidInput, NotFound
from privacyops.identity.normalize import IdentityKind
from privacyops.identity.service import find_subject
from privacyops.models.connectors import LegalHold
from privacyops.models.types import utcnow
from privacyops.vault.service import Vault

MAX_REASON = 500


def place(db: Session, vault: Vault, email: str, reason: str, *, actor: str) -> LegalHold:
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        message = f"say why the data must be kept (1 to {MAX_REASON} characters)"
        raise InvalidInput(f"reason: {message}", [FieldProblem("reason", message)])
    subject = find_subject(db, vault, IdentityKind.email, email)
    if subject is None:
        raise NotFound("no data subject with this email address")
    hold = LegalHold(subject_id=subject.id, reason=text, placed_by=actor, placed_at=utcnow())
    db.add(hold)
    db.flush()
    record(
        db,
        AuditAction.legal_hold_placed,
        actor=actor,
        subject=vault.subject_hash(subject.id),
        target=f"legal_hold:{hold.id}",
    )
    return hold


def release(db: Session, vault: Vault, hold_id: int, *, actor: str) -> LegalHold:
    hold = db.get(LegalHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise NotFound(f"no active legal hold {hold_id}")
    hold.released_at, hold.released_by = utcnow(), actor
    record(
        db,
        AuditAction.legal_hold_released,
        actor=actor,
        subject=vault.subject_hash(hold.subject_id),
        target=f"legal_hold:{hold.id}",
    )
    db.flush()
    return hold


def active(db: Session) -> list[LegalHold]:
    query = select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)
    return list(db.scalars(query))


def reason_for(db: Session, subject_id: str) -> str | None:
    """The reason of the subject's oldest active hold, or None when it is not held."""
    hold = db.scalar(
        select(LegalHold)
        .where(LegalHold.subject_id == subject_id, LegalHold.released_at.is_(None))
        .order_by(LegalHold.placed_at)
    )
    return hold.reason if hold else None
