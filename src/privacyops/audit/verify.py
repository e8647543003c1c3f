"""Walk the audit chain and name the first event that breaks it.

Each event stores the hash of the one before and a hash over its own content, and the chain
head stores the last event's seq and hash. So:

- an edited row no longer matches its own hash;
- a deleted row leaves a gap in `seq`;
- rows moved to another position (swapped `seq` values or swapped content) carry a `prev_hash`
  that belongs to another place in the chain;
- a row rewritten together with its own hash no longer matches the next event's `prev_hash`;
- rows cut off the end leave the head pointing past the last event.

What the chain cannot show alone: someone who rewrites every event from the edit onwards AND
the head. Exported copies (a SIEM holding earlier hashes) catch that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from privacyops.audit import repository
from privacyops.audit.chain import event_hash
from privacyops.models.audit import GENESIS_HASH

Problem = Literal[
    "edited", "missing", "out_of_order", "rewritten", "truncated", "head_mismatch", "unchained"
]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain is broken: which event, and what is wrong in plain words."""

    seq: int
    id: int | None
    problem: Problem
    message: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass
class _Last:
    seq: int = 0
    id: int | None = None
    hash: str = GENESIS_HASH


def verify_chain(
    db: Session, batch_size: int = 1000, progress: Progress | None = None
) -> VerifyResult:
    """Check every event in seq order, in batches of `batch_size` (constant memory).

    The head is read first and the walk stops at its seq, so events appended while the walk
    runs are neither checked nor mistaken for tampering. `progress(checked, total)` is called
    after each batch.
    """
    head_seq, head_hash, max_seq = repository.chain_state(db)
    upto = head_seq if head_seq is not None else max_seq
    last = _Last()
    checked = 0
    while True:
        rows = repository.events_after(db, last.seq, upto, batch_size)
        for row in rows:
            broken = _check_event(db, row, last)
            if broken is not None:
                return VerifyResult(checked, broken)
            last = _Last(row.seq, row.id, row.hash)
            checked += 1
        if progress is not None:
            progress(checked, upto)
        if len(rows) < batch_size:
            break
    return VerifyResult(checked, _check_head(head_seq, head_hash, max_seq, last))


def _check_event(db: Session, row: Any, last: _Last) -> ChainBreak | None:
    expected = last.seq + 1
    if row.seq != expected:
        return _missing(expected, row.seq - 1)
    content_ok = _recompute(row) == row.hash
    linked = row.prev_hash == last.hash
    if content_ok and linked:
        return None
    if not linked and _belongs_elsewhere(db, row, last):
        return ChainBreak(
            row.seq,
            row.id,
            "out_of_order",
            f"events out of order at {row.seq}: event {row.seq} carries the link of another "
            "position in the chain (rows reordered?)",
        )
    if not content_ok:
        return ChainBreak(
            row.seq,
            row.id,
            "edited",
            f"event {row.seq} was edited: its hash does not match its content",
        )
    if last.seq == 0:
        return ChainBreak(
            row.seq,
            row.id,
            "unchained",
            f"event {row.seq} does not start from the genesis hash: the start of the log was "
            "rewritten",
        )
    # The row is consistent in itself but links to a hash that exists nowhere: the event before
    # it was rewritten and re-hashed (this row still carries its original hash).
    return ChainBreak(
        last.seq,
        last.id,
        "rewritten",
        f"event {last.seq} was rewritten: its hash was recomputed, but event {row.seq} still "
        "links to the original",
    )


def _missing(first: int, final: int) -> ChainBreak:
    if first == final:
        message = f"event {first} is missing (deleted?)"
    else:
        message = f"events {first} to {final} are missing (deleted?)"
    return ChainBreak(first, None, "missing", message)


def _belongs_elsewhere(db: Session, row: Any, last: _Last) -> bool:
    """Whether the row's link points at another real position: the row itself was moved."""
    # Ids grow with seq (writers insert while holding the chain head's lock), so a row whose id
    # is out of step with its neighbours' was moved, even if the mover re-hashed it.
    if last.id is not None and row.id < last.id:
        return True
    next_id = repository.id_at(db, row.seq + 1)
    if next_id is not None and next_id < row.id:
        return True
    if row.prev_hash == GENESIS_HASH:
        return True
    return repository.seq_with_hash(db, row.prev_hash) is not None


def _check_head(
    head_seq: int | None, head_hash: str | None, max_seq: int, last: _Last
) -> ChainBreak | None:
    if head_seq is None:
        if last.seq == 0:
            return None  # an empty log that was never written to
        return ChainBreak(
            last.seq,
            last.id,
            "head_mismatch",
            "the chain head is missing: events cut off the end could not be noticed",
        )
    if head_seq > last.seq:
        where = f"the log ends at event {last.seq}" if last.seq else "the log is empty"
        return ChainBreak(
            last.seq + 1,
            None,
            "truncated",
            f"{where} but the chain head says {head_seq}: the last events were deleted",
        )
    if head_hash != last.hash:
        return ChainBreak(
            last.seq,
            last.id,
            "head_mismatch",
            f"event {last.seq} does not match the chain head: it (or the head) was rewritten",
        )
    if max_seq > head_seq:
        return ChainBreak(
            head_seq + 1,
            None,
            "unchained",
            f"event {head_seq + 1} lies beyond the chain head (event {head_seq}): it was "
            "added outside the audit service",
        )
    return None


def _recompute(row: Any) -> str:
    return event_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        target=row.target,
        client=row.client,
        details=row.details,
        prev_hash=row.prev_hash,
    )
