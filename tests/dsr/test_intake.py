"""Intake: valid requests are stored whole with their snapshot; bad input stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.dsr import service
from privacyops.dsr.records import identity_value, unseal_json
from privacyops.errors import Conflict, InvalidInput
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import DataRequest, RequestEvent, RequestIdentity
from privacyops.models.identity import SubjectIdentity
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import EMAIL, LINKS, T0, body, counts, messages, submit


def test_access_request_is_stored_with_its_rules_and_receipt(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, details="Please include my orders.")

    assert request.id.startswith("R-")
    assert len(request.id) == 12
    assert request.status == "awaiting_verification"
    assert request.received_at == T0
    assert request.policy_version == policy.number
    snapshot = request.rules_snapshot
    assert snapshot["allowed"] is True
    assert snapshot["state"] == "CA"
    assert request.due_at.isoformat() == snapshot["deadline"]["due_at"]
    # 45 calendar days from receipt (not from verification), end of day in California.
    assert request.due_at.date().isoformat() == "2027-01-12"
    sent = messages(db, vault, request.id)
    assert [m.template for m in sent] == ["dsr_code", "dsr_receipt"]
    assert {m.to for m in sent} == {EMAIL}
    receipt = sent[1]
    assert request.id in receipt.text
    assert "January 11, 2027" in receipt.text
    assert "Please include my orders." in receipt.text
    payload = unseal_json(vault, request, "payload", request.payload_ciphertext)
    assert payload["details"] == "Please include my orders."
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert "request.received" in actions


def test_opt_out_needs_no_verification(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy, type="opt_out_sale")

    assert request.verification == "none"
    assert request.verified_at == T0
    assert request.status == "in_progress"
    sent = messages(db, vault, request.id)
    assert [m.template for m in sent] == ["dsr_receipt"]
    assert "needs no verification" in sent[0].text
    assert f"/requests/{request.id}?token=" in sent[0].text
    transitions = [
        (e.from_status, e.to_status)
        for e in db.scalars(select(RequestEvent).order_by(RequestEvent.id))
    ]
    assert transitions == [
        (None, "received"),
        ("received", "verified"),
        ("verified", "in_progress"),
    ]


def test_phone_and_loyalty_id_are_not_linked_to_the_subject_before_verification(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy, phone="(212) 555-0123", loyalty_id="mbr-7781")

    identities = db.scalars(
        select(RequestIdentity).where(RequestIdentity.request_id == request.id)
    ).all()
    assert sorted(i.kind for i in identities) == ["email", "loyalty_id", "phone"]
    assert all(i.verified_at is None for i in identities)
    assert {identity_value(vault, request, i) for i in identities} == {
        EMAIL,
        "+12125550123",
        "MBR-7781",
    }
    linked = db.scalars(
        select(SubjectIdentity.kind).where(SubjectIdentity.subject_id == request.subject_id)
    ).all()
    assert linked == ["email"]
    # The phone gets its own code, by text message.
    assert [m.channel for m in messages(db, vault, request.id)].count("sms") == 1


def test_an_existing_subject_is_found_by_email(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    first = submit(db, vault, policy)
    second = submit(db, vault, policy, type="deletion", email=EMAIL.upper())

    assert first.subject_id == second.subject_id


def test_refused_type_names_the_rule_and_stores_nothing(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    before = counts(db)

    with pytest.raises(InvalidInput) as caught:
        submit(
            db,
            vault,
            policy,
            type="correction",
            state="IA",
            corrections=[{"field": "name", "value": "Ann"}],
        )

    assert [p.field for p in caught.value.problems] == ["type"]
    assert "Iowa" in caught.value.message
    assert counts(db) == before


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"type": "teleport"}, "type"),
    ({"state": "ZZ"}, "state"),
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"phone": "12"}, "phone"),
    ({"loyalty_id": "has spaces!"}, "loyalty_id"),
    ({"type": "correction"}, "corrections"),
    ({"type": "correction", "corrections": [{"field": "", "value": "x"}]}, "corrections[0].field"),
    (
        {"type": "correction", "corrections": [{"field": "name", "value": ""}]},
        "corrections[0].value",
    ),
    ({"corrections": [{"field": "name", "value": "Ann"}]}, "corrections"),
    ({"details": "x" * 4001}, "details"),
    ({"agent": {"name": "Agency", "email": "agent@example.com", "proof": ""}}, "agent.proof"),
    ({"agent": {"name": "", "email": "bad", "proof": "signed"}}, "agent.name"),
    ({"type": "deletion", "specific_pieces": True}, "specific_pieces"),
    ({"access_format": "pdf"}, "access_format"),
    ({"type": "appeal"}, "appeal_of"),
    ({"appeal_of": "R-1234567890"}, "appeal_of"),
    (
        {
            "type": "access",
            "state": "VA",
            "agent": {"name": "A", "email": "a@example.com", "proof": "p"},
        },
        "agent",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUT)
def test_bad_input_names_the_field_and_stores_nothing(
    db: Session, vault: Vault, policy: PolicyVersion, overrides: dict[str, Any], field: str
) -> None:
    before = counts(db)

    with pytest.raises(InvalidInput) as caught:
        submit(db, vault, policy, **overrides)

    assert field in [p.field for p in caught.value.problems]
    assert counts(db) == before


def test_errors_never_repeat_the_value(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    with pytest.raises(InvalidInput) as caught:
        submit(db, vault, policy, email="secret-person@", phone="555-SECRET")

    assert "secret" not in caught.value.message.lower()


def test_agent_request_where_the_law_allows_agents(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    agent = {"name": "Rights Agency", "email": "agent@example.com", "proof": "signed permission"}
    request = submit(db, vault, policy, agent=agent)

    assert request.via_agent
    payload = unseal_json(vault, request, "payload", request.payload_ciphertext)
    assert payload["agent"]["name"] == "Rights Agency"
    # The consumer confirms: the code goes to the consumer, not to the agent.
    assert {m.to for m in messages(db, vault, request.id)} == {EMAIL}


def test_same_idempotency_key_returns_the_first_request(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    first = submit(db, vault, policy, key="retry-123")
    before = counts(db)

    again = service.submit(
        db, vault, policy, body(), "api", T0, links=LINKS, idempotency_key="retry-123"
    )

    assert not again.created
    assert again.request.id == first.id
    assert counts(db) == before


def test_same_idempotency_key_with_another_body_conflicts(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    submit(db, vault, policy, key="retry-123")

    with pytest.raises(Conflict, match="Idempotency-Key"):
        submit(db, vault, policy, key="retry-123", type="deletion")


def test_idempotency_key_is_stored_hashed(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy, key="my-visible-key")

    stored = db.scalars(
        select(DataRequest.idempotency_hash).where(DataRequest.id == request.id)
    ).one()
    assert stored is not None
    assert "my-visible-key" not in stored


def test_a_twin_stored_concurrently_with_the_same_key_leaves_nothing_half_written(
    db: Session, vault: Vault, policy: PolicyVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privacyops.dsr import repository
    from privacyops.errors import Conflict
    from tests.dsr.support import counts, submit

    submit(db, vault, policy, key="twin-key")
    db.commit()
    before = counts(db)
    # As if the twin committed between our look-up and our insert.
    monkeypatch.setattr(repository, "by_idempotency_hash", lambda _db, _hash: None)

    with pytest.raises(Conflict, match="being stored right now"):
        submit(db, vault, policy, key="twin-key")
    db.commit()
    assert counts(db) == before


def test_an_agents_request_asks_the_consumer_to_confirm_with_the_code(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    from tests.dsr.support import EMAIL, messages

    # California lets an authorized agent make any request (11 CCR 7063).
    request = submit(
        db,
        vault,
        policy,
        state="CA",
        agent={"name": "Acme Privacy Agents", "email": "ops@acme.example", "proof": "signed"},
    )

    [code_mail] = [m for m in messages(db, vault, request.id) if m.template == "dsr_code"]
    assert code_mail.to == EMAIL
    assert "Acme Privacy Agents asked us, as your authorized agent" in code_mail.text
    assert "Enter this code only if you gave them permission" in code_mail.text
    assert request.status == "awaiting_verification"
