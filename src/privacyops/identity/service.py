"""Data subjects and their identities: find by blind index, create, reveal, crypto-shred.

Plaintext identities never reach the main database: each is stored as a blind index (to find
it) and a ciphertext under the subject's own data key (to read it). The audit trail is the
caller's: it records `subject.created`, `subject.viewed` and `subject.shredded` in the same
transaction, with `vault.subject_hash(subject_id)` as the subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound
from privacyops.identity import repository
from privacyops.identity.normalize import IdentityKind, normalize, parse_kind
from privacyops.models.identity import DataSubject, SubjectIdentity
from privacyops.models.types import utcnow
from privacyops.vault.service import SubjectShredded, Vault


class IdentitiesConflict(Conflict):
    """The identities given belong to different data subjects; they are never merged silently."""


def identity_context(identity_id: str, kind: str) -> str:
    # Bound to the row and the kind: a ciphertext copied to another row will not decrypt.
    return f"subject_identities:{identity_id}:{kind}"


def find_subject(db: Session, vault: Vault, kind: str, value: str) -> DataSubject | None:
    """The subject with this identity, if any (shredded subjects have none left)."""
    index = vault.blind_index(kind, value)
    found = repository.find_identities(db, [(index, parse_kind(kind).value)])
    return repository.get_subject(db, found[0].subject_id) if found else None


def get_or_create_subject(
    db: Session, vault: Vault, identities: Mapping[str, str]
) -> tuple[DataSubject, bool]:
    """The subject these identities point to, or a new one; returns (subject, created).

    Identities not yet known are linked to the subject found. Callers pass only identities the
    person has proven to control (verification): linking is what lets a later request by any
    of them reach the whole record. Identities of two different subjects raise
    `IdentitiesConflict` and change nothing; deciding a merge is left to a person.
    """
    wanted = _normalised(identities)
    indexes = {kind: vault.blind_index(kind, value) for kind, value in wanted.items()}
    found = repository.find_identities(db, [(index, kind) for kind, index in indexes.items()])
    subject_ids = {identity.subject_id for identity in found}
    if len(subject_ids) > 1:
        kinds = ", ".join(sorted(identity.kind for identity in found))
        raise IdentitiesConflict(
            f"these identities belong to different data subjects ({kinds}); "
            "they are not merged automatically"
        )
    created = not subject_ids
    if created:
        subject = repository.add_subject(db, DataSubject(id=str(uuid.uuid4())))
        # Committed in the key store before our transaction commits (see keystore.py).
        vault.create_subject_key(subject.id)
    else:
        existing = repository.get_subject(db, subject_ids.pop())
        assert existing is not None  # the foreign key guarantees it
        subject = existing
    known_kinds = {identity.kind for identity in found}
    new = {kind: value for kind, value in wanted.items() if kind not in known_kinds}
    _add_identities(db, vault, subject.id, new, indexes)
    return subject, created


def _normalised(identities: Mapping[str, str]) -> dict[str, str]:
    if not identities:
        raise InvalidInput(
            "identities: at least one identity is needed",
            [FieldProblem(field="identities", message="at least one identity is needed")],
        )
    problems: list[FieldProblem] = []
    result: dict[str, str] = {}
    for kind, value in identities.items():
        try:
            identity_kind = parse_kind(kind, field=kind)
            result[identity_kind.value] = normalize(identity_kind, value)
        except InvalidInput as exc:
            problems.extend(exc.problems)
    if problems:
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InvalidInput(message, problems)
    return result


def _add_identities(
    db: Session, vault: Vault, subject_id: str, values: dict[str, str], indexes: dict[str, str]
) -> None:
    rows = []
    for kind, value in values.items():
        identity_id = str(uuid.uuid4())
        ciphertext = vault.encrypt_for_subject(
            subject_id, value, identity_context(identity_id, kind)
        )
        rows.append(
            SubjectIdentity(
                id=identity_id,
                subject_id=subject_id,
                kind=kind,
                blind_index=indexes[kind],
                ciphertext=ciphertext,
            )
        )
    try:
        repository.add_identities(db, rows)
    except IntegrityError:
        raise Conflict(
            "an identity was registered by another request at the same time; try again"
        ) from None


def reveal_identities(db: Session, vault: Vault, subject_id: str) -> dict[str, list[str]]:
    """The subject's identities in clear, by kind. Callers record `subject.viewed`.

    Raises `SubjectShredded` once the subject's key is gone.
    """
    subject = _subject(db, subject_id)
    if subject.shredded_at is not None:
        raise SubjectShredded(f"subject {subject_id} was erased (crypto-shredded)")
    revealed: dict[str, list[str]] = {}
    for identity in repository.identities_of(db, subject_id):
        value = vault.decrypt_for_subject(
            subject_id, identity.ciphertext, identity_context(identity.id, identity.kind)
        )
        revealed.setdefault(identity.kind, []).append(value)
    return revealed


def shred_subject(db: Session, vault: Vault, subject_id: str) -> DataSubject:
    """Crypto-shred a subject: their data key is erased, their identities can't be looked up.

    The key goes first and for good (the key store commits on its own): should this
    transaction then fail, the data is already unreadable and running this again completes
    the bookkeeping. Idempotent. The subject row stays, with `shredded_at`, holding nothing
    personal. Callers record `subject.shredded`.
    """
    subject = _subject(db, subject_id)
    vault.shred(subject_id)
    repository.delete_identities_of(db, subject_id)
    if subject.shredded_at is None:
        subject.shredded_at = utcnow()
    db.flush()
    return subject


def _subject(db: Session, subject_id: str) -> DataSubject:
    subject = repository.get_subject(db, subject_id)
    if subject is None:
        raise NotFound(f"no data subject {subject_id}")
    return subject


__all__ = [
    "IdentitiesConflict",
    "IdentityKind",
    "find_subject",
    "get_or_create_subject",
    "reveal_identities",
    "shred_subject",
]
