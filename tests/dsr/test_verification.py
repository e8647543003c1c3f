"""Verification codes: right, wrong, 5 attempts, expiry, replay, resends; the stronger standard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.dsr import service
from privacyops.dsr.records import unseal_json
from privacyops.dsr.service import CodeRefused, TooManyRequests
from privacyops.errors import Conflict, InvalidInput
from privacyops.identity.service import get_or_create_subject
from privacyops.models.dsr import RequestIdentity, VerificationCode
from privacyops.models.identity import SubjectIdentity
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import EMAIL, T0, last_code, submit


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_right_code_verifies_and_starts_the_work(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)

    result = service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)

    assert result.complete
    assert request.verified_at == T0
    assert request.status == "in_progress"
    email = db.scalars(
        select(RequestIdentity).where(RequestIdentity.request_id == request.id)
    ).one()
    assert email.verified_at == T0


def test_deletion_goes_to_review_after_verification(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, type="deletion")

    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)

    assert request.status == "awaiting_review"


def test_code_is_stored_as_an_hmac_only(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)
    code = last_code(db, vault, request.id)

    row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request.id)
    ).one()
    assert code not in row.code_hmac
    assert len(row.code_hmac) == 64
    assert row.expires_at == T0 + timedelta(minutes=15)


def test_wrong_code_counts_and_five_attempts_kill_the_code(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)
    code = last_code(db, vault, request.id)

    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRefused, match=f"{left} attempt"):
            service.verify(db, vault, request.id, wrong(code), now=T0)
    with pytest.raises(CodeRefused, match="no attempts left"):
        service.verify(db, vault, request.id, wrong(code), now=T0)
    with pytest.raises(CodeRefused, match="no longer works") as caught:
        service.verify(db, vault, request.id, code, now=T0)

    assert caught.value.problems[0].field == "code"
    assert request.status == "awaiting_verification"


def test_expired_code_is_refused(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)
    code = last_code(db, vault, request.id)

    with pytest.raises(CodeRefused, match="expired"):
        service.verify(db, vault, request.id, code, now=T0 + timedelta(minutes=15, seconds=1))
    service.verify(db, vault, request.id, code, now=T0 + timedelta(minutes=14, seconds=59))


def test_replayed_code_is_refused(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy, type="confirm")
    code = last_code(db, vault, request.id)
    service.verify(db, vault, request.id, code, now=T0)

    with pytest.raises(CodeRefused) as caught:
        service.verify(db, vault, request.id, code, now=T0)

    assert caught.value.problems[0].field == "code"
    assert "already" in caught.value.message


def test_malformed_code_does_not_count(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)

    with pytest.raises(CodeRefused, match="6 digits"):
        service.verify(db, vault, request.id, "12ab", now=T0)

    row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request.id)
    ).one()
    assert row.attempts == 0


def test_resend_replaces_the_code_with_limits(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)
    first = last_code(db, vault, request.id)

    with pytest.raises(TooManyRequests) as early:
        service.resend_code(db, vault, request.id, now=T0 + timedelta(seconds=20))
    assert early.value.retry_after == 40

    at = T0
    for left in (2, 1, 0):
        at += timedelta(minutes=1)
        assert service.resend_code(db, vault, request.id, now=at).sends_left == left
    with pytest.raises(TooManyRequests) as exhausted:
        service.resend_code(db, vault, request.id, now=at + timedelta(hours=1))
    assert exhausted.value.retry_after is None

    newest = last_code(db, vault, request.id)
    if newest != first:
        with pytest.raises(CodeRefused):
            service.verify(db, vault, request.id, first, now=at)
    service.verify(db, vault, request.id, newest, now=at)
    assert request.status == "in_progress"


def test_resend_after_a_dead_code_gives_new_attempts(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)
    code = last_code(db, vault, request.id)
    for _ in range(5):
        with pytest.raises(CodeRefused):
            service.verify(db, vault, request.id, wrong(code), now=T0)

    service.resend_code(db, vault, request.id, now=T0 + timedelta(minutes=2))
    service.verify(
        db, vault, request.id, last_code(db, vault, request.id), now=T0 + timedelta(minutes=3)
    )

    assert request.verified_at is not None


def test_high_standard_needs_data_points_and_a_signed_declaration(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, specific_pieces=True)
    code = last_code(db, vault, request.id)
    assert request.verification == "high"

    with pytest.raises(InvalidInput) as caught:
        service.verify(db, vault, request.id, code, now=T0)
    assert {p.field for p in caught.value.problems} == {
        "extra_points",
        "declaration_signed",
        "signer_name",
    }
    row = db.scalars(
        select(VerificationCode).where(VerificationCode.request_id == request.id)
    ).one()
    assert row.attempts == 0  # refused before the code was looked at

    service.verify(
        db,
        vault,
        request.id,
        code,
        now=T0,
        extra_points={"last_order": "A-1001", "card_last4": "4242"},
        declaration_signed=True,
        signer_name="Ann Requester",
    )
    assert request.status == "awaiting_review"
    evidence = unseal_json(vault, request, "evidence", request.evidence_ciphertext)
    assert evidence["signer_name"] == "Ann Requester"
    assert evidence["extra_points"] == {"last_order": "A-1001", "card_last4": "4242"}
    assert evidence["matched"] is None  # for staff to compare in review


def test_phone_is_verified_by_its_own_code_and_then_linked(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, phone="(212) 555-0123")
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)

    result = service.verify(
        db, vault, request.id, last_code(db, vault, request.id, "sms"), now=T0, identity="phone"
    )

    assert result.identity == "phone"
    assert service.verified_identities(db, vault, request) == {
        "email": EMAIL,
        "phone": "+12125550123",
    }
    linked = db.scalars(
        select(SubjectIdentity.kind).where(SubjectIdentity.subject_id == request.subject_id)
    ).all()
    assert sorted(linked) == ["email", "phone"]


def test_unverified_identities_are_never_used(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, phone="(212) 555-0123", loyalty_id="M-1")
    assert service.verified_identities(db, vault, request) == {}

    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)

    # The loyalty id is in no record of this person: it stays unverified and unused.
    assert service.verified_identities(db, vault, request) == {"email": EMAIL}


def test_loyalty_id_known_for_the_same_person_counts_as_verified(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    get_or_create_subject(db, vault, {"email": EMAIL, "loyalty_id": "M-1"})
    request = submit(db, vault, policy, loyalty_id="m-1")

    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)

    assert service.verified_identities(db, vault, request) == {"email": EMAIL, "loyalty_id": "M-1"}


def test_closed_request_cannot_be_verified(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    from privacyops.dsr import workflow

    request = submit(db, vault, policy)
    workflow.cancel(db, vault, request.id, actor="staff:1", now=T0)

    with pytest.raises(Conflict):
        service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)
