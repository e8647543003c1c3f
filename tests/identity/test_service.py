"""Subjects and identities: found by blind index, created once, revealed, shredded."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.errors import InvalidInput, NotFound
from privacyops.identity.service import (
    IdentitiesConflict,
    find_subject,
    get_or_create_subject,
    reveal_identities,
    shred_subject,
)
from privacyops.models.identity import DataSubject, SubjectIdentity
from privacyops.vault.crypto import DecryptionFailed
from privacyops.vault.service import SubjectShredded, Vault


def test_created_once_then_found_by_any_spelling(db: Session, vault: Vault) -> None:
    subject, created = get_or_create_subject(
        db, vault, {"email": "Ann.Lee@Example.com", "phone": "(212) 555-0123"}
    )
    assert created
    again, created_again = get_or_create_subject(db, vault, {"email": " ann.lee@example.COM"})
    assert (again.id, created_again) == (subject.id, False)
    found = find_subject(db, vault, "phone", "+1 212 555 0123")
    assert found is not None
    assert found.id == subject.id
    assert find_subject(db, vault, "email", "someone.else@example.com") is None
    assert reveal_identities(db, vault, subject.id) == {
        "email": ["ann.lee@example.com"],
        "phone": ["+12125550123"],
    }


def test_rows_hold_no_plaintext(db: Session, vault: Vault) -> None:
    subject, _ = get_or_create_subject(db, vault, {"email": "zed@example.com"})
    row = db.scalars(select(SubjectIdentity).where(SubjectIdentity.subject_id == subject.id)).one()
    assert row.kind == "email"
    assert row.blind_index == vault.blind_index("email", "zed@example.com")
    assert "zed" not in row.ciphertext
    assert row.ciphertext.startswith("v1.subject.")


def test_new_identities_are_linked_to_the_subject_found(db: Session, vault: Vault) -> None:
    subject, _ = get_or_create_subject(db, vault, {"email": "bo@example.com"})
    linked, created = get_or_create_subject(
        db, vault, {"email": "bo@example.com", "loyalty_id": "mb-42"}
    )
    assert (linked.id, created) == (subject.id, False)
    found = find_subject(db, vault, "loyalty_id", "MB-42")
    assert found is not None
    assert found.id == subject.id


def test_identities_of_two_subjects_are_not_merged(db: Session, vault: Vault) -> None:
    get_or_create_subject(db, vault, {"email": "cy@example.com"})
    get_or_create_subject(db, vault, {"phone": "646-555-0199"})
    before = db.scalar(select(SubjectIdentity.id).order_by(SubjectIdentity.id).limit(1))
    with pytest.raises(IdentitiesConflict, match="different data subjects") as caught:
        get_or_create_subject(
            db, vault, {"email": "cy@example.com", "phone": "646-555-0199", "device_id": "d1"}
        )
    assert "cy@example.com" not in caught.value.message
    assert find_subject(db, vault, "device_id", "d1") is None
    assert db.scalar(select(SubjectIdentity.id).order_by(SubjectIdentity.id).limit(1)) == before


def test_bad_input_names_every_field(db: Session, vault: Vault) -> None:
    with pytest.raises(InvalidInput) as caught:
        get_or_create_subject(db, vault, {"email": "nope", "phone": "12", "shoe": "9"})
    assert [p.field for p in caught.value.problems] == ["email", "phone", "shoe"]
    with pytest.raises(InvalidInput, match="at least one identity"):
        get_or_create_subject(db, vault, {})
    assert db.scalars(select(DataSubject)).all() == []


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(db: Session, vault: Vault) -> None:
    subject, _ = get_or_create_subject(db, vault, {"email": "di@example.com", "device_id": "abc"})
    rows = db.scalars(select(SubjectIdentity).where(SubjectIdentity.subject_id == subject.id)).all()
    rows[0].ciphertext, rows[1].ciphertext = rows[1].ciphertext, rows[0].ciphertext
    db.flush()
    with pytest.raises(DecryptionFailed):
        reveal_identities(db, vault, subject.id)


def test_shredding_a_subject(db: Session, vault: Vault) -> None:
    subject, _ = get_or_create_subject(
        db, vault, {"email": "ed@example.com", "phone": "2125550188"}
    )
    keep, _ = get_or_create_subject(db, vault, {"email": "fay@example.com"})
    shredded = shred_subject(db, vault, subject.id)
    assert shredded.shredded_at is not None
    assert shred_subject(db, vault, subject.id).shredded_at == shredded.shredded_at  # idempotent
    assert find_subject(db, vault, "email", "ed@example.com") is None
    assert find_subject(db, vault, "phone", "2125550188") is None
    assert not vault.has_subject_key(subject.id)
    with pytest.raises(SubjectShredded):
        reveal_identities(db, vault, subject.id)
    assert reveal_identities(db, vault, keep.id) == {"email": ["fay@example.com"]}
    # The same person coming back is a new subject, unrelated to the erased one.
    again, created = get_or_create_subject(db, vault, {"email": "ed@example.com"})
    assert created
    assert again.id != subject.id


def test_unknown_subject(db: Session, vault: Vault) -> None:
    with pytest.raises(NotFound):
        reveal_identities(db, vault, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        shred_subject(db, vault, "00000000-0000-0000-0000-000000000000")


def test_identities_are_found_by_exact_pairs_through_the_index(db: Session, vault: Vault) -> None:
    """(index, kind) pairs: a pair with the right index but another kind finds nothing, and on
    SQLite the lookup uses the blind index's index instead of scanning every identity."""
    from sqlalchemy import event

    from privacyops.identity.repository import find_identities

    subject, _ = get_or_create_subject(db, vault, {"email": "pairs@example.com"})
    index = vault.blind_index("email", "pairs@example.com")
    statements: list[tuple[str, object]] = []

    def keep(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        statements.append((statement, params))

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", keep)
    try:
        phone = vault.blind_index("phone", "+12125550199")
        found = find_identities(db, [(index, "email"), (phone, "phone")])
        assert [i.subject_id for i in found] == [subject.id]
        assert find_identities(db, [(index, "phone"), (phone, "phone")]) == []
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    if connection.dialect.name == "sqlite":
        statement, params = statements[0]
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
        details = " ".join(str(row[-1]) for row in plan)
        assert "USING INDEX" in details or "USING COVERING INDEX" in details, details
        assert "SCAN subject_identities" not in details, details
