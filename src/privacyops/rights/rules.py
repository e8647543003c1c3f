"""Which request a person may make, under which rule, due when: the rules engine of rights requests.

Contract shared by intake, workflow and reports. `decide` evaluates the state's law as in force on
the day the request is received (never a later day: an open request keeps the rules it came in
under) together with the policy's own promises (section 8 grants access, correction and deletion
to everyone, on the company's own terms).

How a request type is decided, in order:

1. **The law in force wins.** A right the state's law clearly grants on the receipt day is
   honoured on the law's terms (basis `state_law`), whatever the policy says: a policy cannot
   take away a legal right (Utah's right to correct from 2026-07-01, although the reference
   policy still excludes Utah). A right the table marks `certain: false` (Iowa's targeted-ads
   opt-out, Iowa Code 715D.4(6)) is not a clear grant: it is honoured only if the policy offers
   it to that state. To follow the research notes' advice and honour it anyway, add it to the
   policy's rights for Iowa; the engine does not second-guess the published policy.
2. **Then the policy.** A right the policy lists for the state (`rights.jurisdictions`), or
   grants to everyone (`rights.everyone`), is honoured on the company's own terms (basis
   `policy`: 45 days plus a 45-day extension). A per-state exception of the policy beats its
   general promise for that state: the reference policy grants correction to everyone but
   excludes Iowa and Utah (section 14), so an Iowa resident's correction is refused.
3. **Otherwise refused**, with a reason citing the law (or its absence) and the policy.

California's opt-out of "sharing" (cross-context behavioral advertising, Cal. Civ. Code
1798.140(ah)) and other states' opt-out of targeted advertising are the same right under two
names: a request under either name is decided as the other where that is what the law or policy
uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from privacyops.errors import FieldProblem, InvalidInput
from privacyops.policy.manifest import PolicyManifest, Right
from privacyops.policy.states import state_name
from privacyops.rights import calendar
from privacyops.rights.jurisdictions import (
    AgentScope,
    RightRule,
    RightScope,
    StateLaw,
    StateRules,
    rules_on,
)


class RequestType(StrEnum):
    confirm = "confirm"
    access = "access"
    portability = "portability"
    deletion = "deletion"
    correction = "correction"
    opt_out_sale = "opt_out_sale"
    opt_out_sharing = "opt_out_sharing"
    opt_out_targeted_advertising = "opt_out_targeted_advertising"
    opt_out_profiling = "opt_out_profiling"
    limit_sensitive = "limit_sensitive"
    appeal = "appeal"


OPT_OUTS = frozenset(
    {
        RequestType.opt_out_sale,
        RequestType.opt_out_sharing,
        RequestType.opt_out_targeted_advertising,
        RequestType.opt_out_profiling,
        RequestType.limit_sensitive,
    }
)


class Basis(StrEnum):
    """Why the request is honoured: a state law, or the policy's own promise."""

    state_law = "state_law"
    policy = "policy"


class Verification(StrEnum):
    """How sure we must be of who asks (11 CCR 7060-7062)."""

    none = "none"  # opt-outs need no verification (11 CCR 7026; ORS 646A.576(5)(e))
    standard = "standard"  # reasonable degree of certainty: a code sent to a known identity
    high = "high"  # reasonably high degree: more data points matched + signed declaration


@dataclass(frozen=True)
class Deadline:
    """When the answer is due, and the one extension allowed."""

    due_at: datetime  # UTC, end of the due day in the state's time zone
    days: int
    business_days: bool
    extension_days: int
    source: str
    received_on: date | None = None  # the receipt day in the state: day 0 of the count
    due_on: date | None = None  # the due day in the state
    time_zone: str | None = None  # IANA zone the days were counted in


@dataclass(frozen=True)
class Decision:
    """The outcome of `decide`: allowed or refused, always with the rule and its source."""

    allowed: bool
    request_type: RequestType
    state: str
    basis: Basis | None
    reason: str  # plain English, citing the rule; shown to the requester on refusal
    source: str  # the citation
    deadline: Deadline | None
    verification: Verification
    appeal_days: int | None  # None: no appeal duty
    agent_allowed: bool
    free_requests_per_12_months: int | None
    law_name: str | None
    received_on: date | None = None  # the receipt day in the state, at which rules were read
    scope: RightScope = RightScope.all  # how much data the right reaches (UT/IA deletion: less)
    max_per_year: int | None = None  # CO portability twice a year, IN once
    note: str | None = None  # the law's remark on this right, for staff


# --- terms that are not in the state-law table ------------------------------------------------

# The company's own terms for what only the policy grants (issue 4: "45 days, no appeal"), with
# the same extension the model statute allows.
POLICY_RESPONSE_DAYS = 45
POLICY_EXTENSION_DAYS = 45
POLICY_TERMS_SOURCE = "privacy policy: the company's own terms (45 days, extension 45 days)"
# An appeal that only the policy offers is answered within the model statute's 60 days
# (Va. Code 59.1-577).
POLICY_APPEAL_DAYS = 60

# CCPA's opt-out clock, applied to every opt-out from every state: simplest, and no state asks
# for less time.
OPT_OUT_BUSINESS_DAYS = 15
OPT_OUT_SOURCE = "11 CCR 7026(f) and 7027: 15 business days, applied to opt-outs from every state"

VERIFICATION_SOURCE = "11 CCR 7060-7062"

# What "have no right ..." reads like, per right.
RIGHT_PHRASES: dict[RequestType, str] = {
    RequestType.confirm: "to confirm whether their personal data is processed",
    RequestType.access: "to access their personal data",
    RequestType.portability: "to data portability",
    RequestType.deletion: "to delete",
    RequestType.correction: "to correct",
    RequestType.opt_out_sale: "to opt out of the sale of their personal data",
    RequestType.opt_out_sharing: "to opt out of sharing for cross-context behavioral advertising",
    RequestType.opt_out_targeted_advertising: "to opt out of targeted advertising",
    RequestType.opt_out_profiling: "to opt out of profiling",
    RequestType.limit_sensitive: "to limit the use of sensitive personal data",
    RequestType.appeal: "to appeal a decision on a request",
}

_SAME_RIGHT: dict[Right, tuple[Right, ...]] = {
    Right.opt_out_sharing: (Right.opt_out_sharing, Right.opt_out_targeted_advertising),
    Right.opt_out_targeted_advertising: (
        Right.opt_out_targeted_advertising,
        Right.opt_out_sharing,
    ),
}


def _names(request_type: RequestType) -> tuple[Right, ...]:
    right = Right(request_type.value)
    return _SAME_RIGHT.get(right, (right,))


# --- the grant: law, then policy ---------------------------------------------------------------


@dataclass(frozen=True)
class _Grant:
    basis: Basis
    reason: str
    source: str
    rule: RightRule | None = None


def _law_rule(rules: StateRules, request_type: RequestType) -> RightRule | None:
    """The law's rule for the request type, if the law clearly grants it that day."""
    for right in _names(request_type):
        rule = rules.right(right)
        if rule is not None and rule.certain:
            return rule
    return None


def _policy_grant(
    policy: PolicyManifest, state: str, request_type: RequestType
) -> tuple[_Grant | None, bool]:
    """What the policy offers the state's residents, and whether it expressly excludes them."""
    names = set(_names(request_type))
    people = f"{state_name(state)} residents"
    stated = policy.jurisdiction(state)
    if stated is not None:
        if any(e.right in names for e in stated.exceptions):
            return None, True
        if names & set(stated.rights):
            source = f"privacy policy: rights of {people} (rights.jurisdictions, {stated.law})"
            grant = _Grant(Basis.policy, f"Offered to {people} by our privacy policy.", source)
            return grant, False
    if names & set(policy.rights.everyone):
        source = "privacy policy: rights of everyone (rights.everyone)"
        reason = "Offered to everyone by our privacy policy, on the company's own terms."
        return _Grant(Basis.policy, reason, source), False
    return None, False


def _grant(
    request_type: RequestType, state: str, rules: StateRules | None, policy: PolicyManifest
) -> _Grant | str:
    """The rule that grants the request, or the reason it is refused."""
    people = f"{state_name(state)} residents"
    if request_type is RequestType.appeal:
        if rules is not None and rules.law.appeal.days is not None:
            law = rules.law
            reason = f"Granted to {people} by the {law.name} ({law.citation})."
            return _Grant(Basis.state_law, reason, _cited(law, "appeal", law.appeal.source))
    elif rules is not None and (rule := _law_rule(rules, request_type)) is not None:
        law = rules.law
        reason = f"Granted to {people} by the {law.name} ({law.citation})."
        return _Grant(Basis.state_law, reason, rule.source, rule)
    offered, excluded = _policy_grant(policy, state, request_type)
    if offered is not None:
        return offered
    return _refusal(request_type, state, rules, excluded)


def _cited(law: StateLaw, topic: str, source: str) -> str:
    """A procedural rule's source with the law's citation in front: the table's notes on
    procedure are often a bare confidence marker (`[K]`)."""
    return f"{law.citation}, {topic}: {source}"


def _refusal(
    request_type: RequestType, state: str, rules: StateRules | None, excluded: bool
) -> str:
    people = f"{state_name(state)} residents"
    if rules is not None:
        under = f"under the {rules.law.name} ({rules.law.citation})"
    else:
        under = "under a state privacy law in force"
    if excluded:
        policy = f"our privacy policy excludes {state_name(state)} from this right"
    else:
        policy = f"our privacy policy does not offer it to {people}"
    return f"{people} have no right {RIGHT_PHRASES[request_type]} {under}, and {policy}."


def _refusal_source(state: str, rules: StateRules | None, excluded: bool) -> str:
    law = rules.law.citation if rules is not None else f"no privacy law in force in {state}"
    if excluded:
        return f"{law}; privacy policy: exception for {state} (rights.jurisdictions)"
    return f"{law}; privacy policy: rights.everyone and rights.jurisdictions"


# --- terms: deadline, verification, agents -----------------------------------------------------


def _deadline(
    request_type: RequestType,
    grant: _Grant,
    rules: StateRules | None,
    received_on: date,
    state: str,
) -> Deadline:
    if request_type in OPT_OUTS:
        due_on = calendar.add_business_days(received_on, OPT_OUT_BUSINESS_DAYS, state)
        days, business, extension, source = OPT_OUT_BUSINESS_DAYS, True, 0, OPT_OUT_SOURCE
    else:
        days, extension, source = _calendar_terms(request_type, grant, rules)
        due_on, business = received_on + timedelta(days=days), False
    return Deadline(
        due_at=calendar.end_of_day(due_on, state),
        days=days,
        business_days=business,
        extension_days=extension,
        source=source,
        received_on=received_on,
        due_on=due_on,
        time_zone=calendar.STATE_TIME_ZONES[state],
    )


def _calendar_terms(
    request_type: RequestType, grant: _Grant, rules: StateRules | None
) -> tuple[int, int, str]:
    """(days, extension days, source) of a request counted in calendar days."""
    if grant.basis is Basis.state_law and rules is not None:
        law = rules.law
        if request_type is RequestType.appeal and law.appeal.days is not None:
            source = _cited(law, "appeal", law.appeal.source)
            return law.appeal.days, law.appeal.extension_days or 0, source
        return law.response.days, law.response.extension_days, law.response.source
    if request_type is RequestType.appeal:
        return POLICY_APPEAL_DAYS, 0, grant.source
    return POLICY_RESPONSE_DAYS, POLICY_EXTENSION_DAYS, POLICY_TERMS_SOURCE


def verification_for(
    request_type: RequestType, *, specific_pieces: bool = False, sensitive_deletion: bool = False
) -> Verification:
    """How sure we must be of the requester before acting.

    Opt-outs need no verification (11 CCR 7026; ORS 646A.576(5)(e)): honouring a stranger's
    opt-out harms no one. Specific pieces of information and deletions of sensitive data need
    the reasonably high degree of certainty of 11 CCR 7062 (more data points matched and a
    signed declaration), and so does portability, which hands over the pieces themselves
    (Cal. Civ. Code 1798.130(a)(2)(B)). Everything else: a reasonable degree of certainty.
    """
    if request_type in OPT_OUTS:
        return Verification.none
    if request_type is RequestType.portability:
        return Verification.high
    if request_type is RequestType.access and specific_pieces:
        return Verification.high
    if request_type is RequestType.deletion and sensitive_deletion:
        return Verification.high
    return Verification.standard


def _agent_allowed(request_type: RequestType, rules: StateRules | None) -> bool:
    """Whether an authorized agent may make this request for a resident.

    Only where the law provides for agents: for every request in California (11 CCR 7063), for
    opt-outs where the law allows opt-out agents. Where the table marks the scope `unclear`
    (Rhode Island, Alabama) agents are accepted for opt-outs only: an opt-out discloses nothing
    and needs no verification, so a wrong agent cannot hurt the consumer.
    """
    if rules is None:
        return False
    scope = rules.law.authorized_agent.scope
    if scope is AgentScope.all_requests:
        return True
    if scope in (AgentScope.opt_out_only, AgentScope.unclear):
        return request_type in OPT_OUTS
    return False


def _agent_refusal(state: str, rules: StateRules | None) -> str:
    if rules is None:
        return (
            f"{state_name(state)} has no privacy law in force that provides for authorized "
            "agents: the consumer must make this request personally."
        )
    law = f"{rules.law.name}, {rules.law.citation}"
    if rules.law.authorized_agent.scope is AgentScope.none:
        return (
            f"{state_name(state)} law does not provide for authorized agents ({law}): "
            "the consumer must make this request personally."
        )
    return (
        f"{state_name(state)} law allows authorized agents only for opt-out requests ({law}): "
        "the consumer must make this request personally."
    )


# --- the contract ------------------------------------------------------------------------------


def normalise_state(state: str) -> str:
    """The two-letter code in capitals; InvalidInput naming `state` if it is not a US state."""
    code = state.strip().upper()
    if code not in calendar.STATE_TIME_ZONES:
        message = f"unknown US state code {state!r} (use a two-letter code such as CA)"
        raise InvalidInput(message, [FieldProblem(field="state", message=message)])
    return code


def _request_type(value: RequestType | str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError:
        known = ", ".join(t.value for t in RequestType)
        message = f"unknown request type {value!r} (one of {known})"
        raise InvalidInput(message, [FieldProblem(field="type", message=message)]) from None


def decide(
    request_type: RequestType,
    state: str,
    received_at: datetime,
    policy: PolicyManifest,
    *,
    specific_pieces: bool = False,
    sensitive_deletion: bool = False,
    via_agent: bool = False,
) -> Decision:
    """Whether `request_type` is available to a resident of `state` on the receipt day.

    The receipt day is `received_at` (UTC if naive) in the state's main time zone; the law is
    read as in force on that day, and the clock starts then, not at verification (11 CCR
    7021(b)). See the module docstring for the order law, policy, refusal.
    """
    request_type = _request_type(request_type)
    state = normalise_state(state)
    received_on = calendar.local_date(received_at, state)
    rules = rules_on(state, received_on)
    grant = _grant(request_type, state, rules, policy)
    refused = Decision(
        allowed=False,
        request_type=request_type,
        state=state,
        basis=None,
        reason="",
        source="",
        deadline=None,
        verification=verification_for(
            request_type, specific_pieces=specific_pieces, sensitive_deletion=sensitive_deletion
        ),
        appeal_days=_appeal_days(state, rules, policy),
        agent_allowed=_agent_allowed(request_type, rules),
        free_requests_per_12_months=(
            rules.law.free_requests.per_12_months if rules is not None else None
        ),
        law_name=rules.law.name if rules is not None else None,
        received_on=received_on,
    )
    if isinstance(grant, str):
        excluded = _policy_grant(policy, state, request_type)[1]
        return replace(refused, reason=grant, source=_refusal_source(state, rules, excluded))
    if via_agent and not refused.agent_allowed:
        source = (
            _cited(rules.law, "authorized agents", rules.law.authorized_agent.source)
            if rules is not None
            else grant.source
        )
        return replace(refused, reason=_agent_refusal(state, rules), source=source)
    rule = grant.rule
    return replace(
        refused,
        allowed=True,
        basis=grant.basis,
        reason=grant.reason,
        source=grant.source,
        deadline=_deadline(request_type, grant, rules, received_on, state),
        scope=rule.scope if rule is not None else RightScope.all,
        max_per_year=rule.max_per_year if rule is not None else None,
        note=rule.note if rule is not None else None,
    )


def _appeal_days(state: str, rules: StateRules | None, policy: PolicyManifest) -> int | None:
    """Days to answer an appeal of a decision for this state's residents; None: no appeal.

    The law's appeal duty covers every request from the state (so that a denial explains how to
    appeal, whatever the basis of the request); where there is none, an appeal the policy
    offers is answered in POLICY_APPEAL_DAYS.
    """
    if rules is not None and rules.law.appeal.days is not None:
        return rules.law.appeal.days
    offered, _ = _policy_grant(policy, state, RequestType.appeal)
    return POLICY_APPEAL_DAYS if offered is not None else None


def decide_all(state: str, received_at: datetime, policy: PolicyManifest) -> list[Decision]:
    """`decide` for every request type, in `RequestType` order: what a state's residents may ask
    (the intake form lists the allowed ones)."""
    return [decide(t, state, received_at, policy) for t in RequestType]


def add_business_days(start: date, days: int, state: str) -> date:
    """`start` plus `days` business days: weekends and US federal holidays (observed) skipped.

    The first business day after `start` is day 1 (see `calendar.add_business_days`).
    """
    return calendar.add_business_days(start, days, normalise_state(state))


def extension_due_at(
    decision_or_deadline: Decision | Deadline, state: str | None = None
) -> datetime | None:
    """The due instant after the one extension: the original due day plus the extension days,
    at the end of that day in the same time zone. None when no extension is allowed (opt-outs,
    appeals where the law gives none)."""
    if isinstance(decision_or_deadline, Decision):
        deadline = decision_or_deadline.deadline
        state = state or decision_or_deadline.state
    else:
        deadline = decision_or_deadline
    if deadline is None:
        raise ValueError("a refused request has no deadline to extend")
    if deadline.extension_days == 0:
        return None
    zone = _zone(deadline, state)
    due_on = deadline.due_at.astimezone(zone).date()
    return calendar.end_of_day_in(due_on + timedelta(days=deadline.extension_days), zone)


def _zone(deadline: Deadline, state: str | None) -> ZoneInfo:
    if state is not None:
        return calendar.state_zone(normalise_state(state))
    if deadline.time_zone is not None:
        return ZoneInfo(deadline.time_zone)
    raise ValueError("the deadline has no time zone: pass the state")
