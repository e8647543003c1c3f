"""`decide`: refusal messages, time zones, verification, agents, and the policy's own terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from privacyops.errors import InvalidInput
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest, Right
from privacyops.rights.jurisdictions import RightScope
from privacyops.rights.rules import (
    POLICY_APPEAL_DAYS,
    Basis,
    RequestType,
    Verification,
    decide,
    decide_all,
    extension_due_at,
)

REFERENCE_POLICY = Path(__file__).parents[2] / "examples" / "miniso-usa" / "policy.yaml"
NOV_27 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> PolicyManifest:
    loaded = load_manifest_file(REFERENCE_POLICY)
    assert loaded.manifest is not None
    return loaded.manifest


def test_iowa_correction_is_refused_citing_law_and_policy(policy: PolicyManifest) -> None:
    decision = decide(RequestType.correction, "IA", NOV_27, policy)
    assert not decision.allowed
    assert decision.reason == (
        "Iowa residents have no right to correct under the Iowa Consumer Data Protection Act "
        "(Iowa Code 715D), and our privacy policy excludes Iowa from this right."
    )
    assert (
        decision.source == "Iowa Code 715D; privacy policy: exception for IA (rights.jurisdictions)"
    )
    assert decision.law_name == "Iowa Consumer Data Protection Act"
    assert decision.appeal_days == 60  # a denial in Iowa explains how to appeal


def test_virginia_agent_request_is_refused(policy: PolicyManifest) -> None:
    decision = decide(RequestType.access, "VA", NOV_27, policy, via_agent=True)
    assert not decision.allowed
    assert decision.reason == (
        "Virginia law does not provide for authorized agents (Virginia Consumer Data Protection "
        "Act, Va. Code 59.1-575 ff.): the consumer must make this request personally."
    )
    assert decision.source == "Va. Code 59.1-575 ff., authorized agents: Va. Code 59.1-577 [S]"


def test_unknown_state(policy: PolicyManifest) -> None:
    with pytest.raises(InvalidInput) as caught:
        decide(RequestType.access, "XX", NOV_27, policy)
    message = "unknown US state code 'XX' (use a two-letter code such as CA)"
    assert caught.value.message == message
    assert [(p.field, p.message) for p in caught.value.problems] == [("state", message)]


def test_unknown_request_type(policy: PolicyManifest) -> None:
    with pytest.raises(InvalidInput) as caught:
        decide("erase_everything", "CA", NOV_27, policy)  # type: ignore[arg-type]
    assert caught.value.problems[0].field == "type"


def test_state_code_is_case_insensitive(policy: PolicyManifest) -> None:
    assert decide(RequestType.access, " ca ", NOV_27, policy).state == "CA"


def test_refusals_for_a_state_without_a_law(policy: PolicyManifest) -> None:
    decision = decide(RequestType.opt_out_sale, "NY", NOV_27, policy)
    assert decision.reason == (
        "New York residents have no right to opt out of the sale of their personal data under a "
        "state privacy law in force, and our privacy policy does not offer it to New York "
        "residents."
    )
    agent = decide(RequestType.access, "NY", NOV_27, policy, via_agent=True)
    assert agent.reason == (
        "New York has no privacy law in force that provides for authorized agents: the "
        "consumer must make this request personally."
    )


def test_receipt_day_and_due_at_in_the_state_time_zone(policy: PolicyManifest) -> None:
    received = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # 22:00 on 28 February in California
    california = decide(RequestType.access, "CA", received, policy)
    assert california.received_on == date(2026, 2, 28)
    assert california.deadline is not None
    assert california.deadline.due_on == date(2026, 4, 14)
    # End of 14 April in Los Angeles (PDT, UTC-7).
    assert california.deadline.due_at == datetime(2026, 4, 15, 6, 59, 59, 999999, tzinfo=UTC)
    assert california.deadline.time_zone == "America/Los_Angeles"
    new_york = decide(RequestType.access, "NY", received, policy)
    assert new_york.received_on == date(2026, 3, 1)
    assert new_york.deadline is not None
    assert new_york.deadline.due_at == datetime(2026, 4, 16, 3, 59, 59, 999999, tzinfo=UTC)
    opt_out = decide(RequestType.opt_out_sale, "CA", received, policy)
    assert opt_out.deadline is not None
    assert opt_out.deadline.due_at == datetime(2026, 3, 21, 6, 59, 59, 999999, tzinfo=UTC)


def test_naive_receipt_time_is_utc(policy: PolicyManifest) -> None:
    naive = decide(RequestType.access, "CA", datetime(2026, 3, 1, 6, 0), policy)
    aware = decide(RequestType.access, "CA", datetime(2026, 3, 1, 6, 0, tzinfo=UTC), policy)
    assert naive == aware


def test_the_rules_of_the_receipt_day_apply(policy: PolicyManifest) -> None:
    """Utah correction: the last second of 30 June in Denver is before HB 418."""
    last_second = datetime(2026, 7, 1, 5, 59, 59, tzinfo=UTC)  # 23:59:59 MDT on 30 June
    assert not decide(RequestType.correction, "UT", last_second, policy).allowed
    after = decide(RequestType.correction, "UT", last_second + timedelta(seconds=1), policy)
    assert after.allowed
    assert after.basis is Basis.state_law
    assert "HB 418" in after.source


def test_extension(policy: PolicyManifest) -> None:
    received = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    access = decide(RequestType.access, "CA", received, policy)
    assert access.deadline is not None
    # 14 April + 45 days = 29 May, end of day in Los Angeles.
    expected = datetime(2026, 5, 30, 6, 59, 59, 999999, tzinfo=UTC)
    assert extension_due_at(access) == expected
    assert extension_due_at(access.deadline) == expected  # the deadline knows its zone
    assert extension_due_at(access.deadline, "CA") == expected
    assert extension_due_at(decide(RequestType.opt_out_sale, "CA", received, policy)) is None
    with pytest.raises(ValueError, match="no deadline"):
        extension_due_at(decide(RequestType.appeal, "CA", received, policy))


@pytest.mark.parametrize(
    ("request_type", "specific_pieces", "sensitive_deletion", "expected"),
    [
        (RequestType.opt_out_sale, False, False, Verification.none),
        (RequestType.limit_sensitive, False, False, Verification.none),
        (RequestType.access, False, False, Verification.standard),
        (RequestType.access, True, False, Verification.high),
        (RequestType.portability, False, False, Verification.high),
        (RequestType.deletion, False, False, Verification.standard),
        (RequestType.deletion, False, True, Verification.high),
        (RequestType.correction, False, False, Verification.standard),
        (RequestType.confirm, False, False, Verification.standard),
    ],
)
def test_verification(
    request_type: RequestType,
    specific_pieces: bool,
    sensitive_deletion: bool,
    expected: Verification,
    policy: PolicyManifest,
) -> None:
    decision = decide(
        request_type,
        "CA",
        NOV_27,
        policy,
        specific_pieces=specific_pieces,
        sensitive_deletion=sensitive_deletion,
    )
    assert decision.verification is expected


@pytest.mark.parametrize(
    ("state", "request_type", "allowed"),
    [
        ("CA", RequestType.access, True),  # 11 CCR 7063: every request
        ("CA", RequestType.opt_out_sale, True),
        ("CO", RequestType.opt_out_sale, True),  # opt-outs only
        ("CO", RequestType.access, False),
        ("VA", RequestType.opt_out_sale, False),  # no agents at all
        ("RI", RequestType.opt_out_sale, True),  # unclear: opt-outs only
        ("RI", RequestType.deletion, False),
        ("NY", RequestType.access, False),  # no law
    ],
)
def test_agents(
    state: str, request_type: RequestType, allowed: bool, policy: PolicyManifest
) -> None:
    decision = decide(request_type, state, NOV_27, policy, via_agent=True)
    assert decision.agent_allowed is allowed
    assert decision.allowed is allowed


def test_colorado_agent_access_reason(policy: PolicyManifest) -> None:
    decision = decide(RequestType.access, "CO", NOV_27, policy, via_agent=True)
    assert decision.reason == (
        "Colorado law allows authorized agents only for opt-out requests (Colorado Privacy Act, "
        "C.R.S. 6-1-1301 ff.): the consumer must make this request personally."
    )


def test_limits_of_the_law_travel_with_the_decision(policy: PolicyManifest) -> None:
    utah = decide(RequestType.deletion, "UT", NOV_27, policy)
    assert utah.scope is RightScope.provided_by_consumer
    indiana = decide(RequestType.portability, "IN", NOV_27, policy)
    assert (indiana.scope, indiana.max_per_year) == (RightScope.copy_or_summary, 1)
    colorado = decide(RequestType.portability, "CO", NOV_27, policy)
    assert colorado.max_per_year == 2
    assert decide(RequestType.access, "CA", NOV_27, policy).free_requests_per_12_months == 2
    assert decide(RequestType.access, "NY", NOV_27, policy).free_requests_per_12_months is None


def test_policy_terms_for_everyone(policy: PolicyManifest) -> None:
    decision = decide(RequestType.deletion, "NY", NOV_27, policy)
    assert decision.allowed
    assert decision.basis is Basis.policy
    assert (
        decision.reason == "Offered to everyone by our privacy policy, on the company's own terms."
    )
    assert decision.deadline is not None
    assert (decision.deadline.days, decision.deadline.extension_days) == (45, 45)
    assert decision.appeal_days is None
    assert decision.law_name is None


def _with_iowa(policy: PolicyManifest, **changes: object) -> PolicyManifest:
    jurisdictions = [
        j.model_copy(update=changes) if j.state == "IA" else j for j in policy.rights.jurisdictions
    ]
    rights = policy.rights.model_copy(update={"jurisdictions": jurisdictions})
    return policy.model_copy(update={"rights": rights})


def test_an_iowa_exception_beats_the_promise_to_everyone(policy: PolicyManifest) -> None:
    """Without its exception, the policy's `everyone` gives Iowa residents correction."""
    iowa = policy.jurisdiction("IA")
    assert iowa is not None
    kept = [e for e in iowa.exceptions if e.right is not Right.correction]
    lenient = _with_iowa(policy, exceptions=kept)
    decision = decide(RequestType.correction, "IA", NOV_27, lenient)
    assert decision.allowed
    assert decision.basis is Basis.policy
    assert decision.deadline is not None
    assert decision.deadline.days == 45


def test_iowa_targeted_ads_opt_out_honoured_once_the_policy_offers_it(
    policy: PolicyManifest,
) -> None:
    """The research notes' advice (§0 #3) is a policy change, not an engine default."""
    assert not decide(RequestType.opt_out_targeted_advertising, "IA", NOV_27, policy).allowed
    iowa = policy.jurisdiction("IA")
    assert iowa is not None
    generous = _with_iowa(
        policy,
        rights=[*iowa.rights, Right.opt_out_targeted_advertising],
        exceptions=[e for e in iowa.exceptions if e.right is Right.correction],
    )
    decision = decide(RequestType.opt_out_targeted_advertising, "IA", NOV_27, generous)
    assert decision.allowed
    assert decision.basis is Basis.policy


def test_an_appeal_offered_by_the_policy(policy: PolicyManifest) -> None:
    everyone = [*policy.rights.everyone, Right.appeal]
    rights = policy.rights.model_copy(update={"everyone": everyone})
    offering = policy.model_copy(update={"rights": rights})
    decision = decide(RequestType.appeal, "NY", NOV_27, offering)
    assert decision.allowed
    assert decision.basis is Basis.policy
    assert decision.appeal_days == POLICY_APPEAL_DAYS
    assert decision.deadline is not None
    assert decision.deadline.due_on == date(2027, 1, 26)


def test_decide_all_lists_every_type(policy: PolicyManifest) -> None:
    decisions = decide_all("IA", NOV_27, policy)
    assert [d.request_type for d in decisions] == list(RequestType)


def test_add_business_days_of_the_contract() -> None:
    from privacyops.rights.rules import add_business_days

    assert add_business_days(date(2026, 11, 25), 1, "ca") == date(2026, 11, 27)
    with pytest.raises(InvalidInput):
        add_business_days(date(2026, 11, 25), 1, "XX")
