"""The consent ledger: records appended, the current decision derived, defaults explained,
GPC conflicts kept, and the bulk filter answering in chunks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from privacyops.consent import ledger
from privacyops.consent.ledger import Method, Who
from privacyops.consent.purposes import EMAIL, SALE, SENSITIVE, SMS, TARGETED
from privacyops.errors import InvalidInput
from privacyops.identity.normalize import IdentityKind
from privacyops.models.consent import ConsentDecision, ConsentRecord
from privacyops.vault.service import Vault

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def someone(db: Session, vault: Vault, email: str = "ann@example.com") -> Who:
    return ledger.person_or_new(db, vault, "email", email, "email")


def test_a_choice_is_appended_and_becomes_the_decision(db: Session, vault: Vault) -> None:
    ann = someone(db, vault)

    ledger.record(db, ann, SMS, True, Method.preference_page, actor="consumer", at=T0)
    ledger.record(db, ann, SMS, False, Method.sms_reply, actor="consumer", at=T0)

    assert [r.allowed for r in db.scalars(select(ConsentRecord))] == [True, False]
    decided = ledger.decide(db, ann, SMS)
    assert decided.allowed is False
    assert decided.reason.startswith("refused by sms_reply on 2026-12-01")
    assert db.scalars(select(ConsentDecision)).one().allowed is False


def test_without_a_choice_the_default_of_the_purpose_answers_and_says_why(
    db: Session, vault: Vault
) -> None:
    assert ledger.decide(db, None, EMAIL).allowed is True  # CAN-SPAM: opt-out
    assert ledger.decide(db, None, SMS).allowed is False  # TCPA: opt-in
    assert ledger.decide(db, None, SENSITIVE, "VA").allowed is False
    assert ledger.decide(db, None, SENSITIVE, "CA").allowed is True  # a right to limit
    assert "47 CFR 64.1200" in ledger.decide(db, None, SMS).reason
    with pytest.raises(InvalidInput, match="purpose"):
        ledger.decide(db, None, "marketing.nonsense")


def test_gpc_opts_out_of_sale_sharing_and_targeting_once_and_keeps_a_conflict(
    db: Session, vault: Vault
) -> None:
    ann = someone(db, vault)
    browser = Who(subject_id=ann.subject_id, browser_id="b-123")
    yes = ledger.record(db, browser, TARGETED, True, Method.banner, actor="consumer", at=T0)

    first = ledger.record_gpc(db, browser, actor="consumer", policy_version=1)
    again = ledger.record_gpc(db, browser, actor="consumer", policy_version=1)

    assert {r.purpose for r in first} >= {SALE, TARGETED}
    assert [r.id for r in again] == [r.id for r in first]  # a repeated signal adds nothing
    overriding = next(r for r in first if r.purpose == TARGETED)
    assert overriding.overrides_record == yes.id
    assert ledger.decide(db, Who(browser_id="b-123"), TARGETED).conflict_with == yes.id
    assert ledger.decide(db, ann, SALE).allowed is False


def test_the_filter_returns_only_contactable_values_in_chunks(db: Session, vault: Vault) -> None:
    out = [f"out{n}@example.com" for n in range(5)]
    for email in out:
        ledger.record(db, someone(db, vault, email), EMAIL, False, Method.api, actor="test")
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    wanted = [f"in{n}@example.com" for n in range(2500)] + out + ["not an email"]

    kept = list(ledger.allowed_contacts(db, vault, EMAIL, IdentityKind.email, wanted))

    assert kept == wanted[:2500]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert list(ledger.allowed_contacts(db, vault, SMS, IdentityKind.email, wanted)) == []
