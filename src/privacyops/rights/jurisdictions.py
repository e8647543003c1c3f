"""The US state privacy laws as data: which rights each grants, from when, and on what terms.

The table lives in `jurisdictions.yaml` next to this module; every rule in it names its legal
source. `rules_on(state, on)` answers "what does this state's law require on this day", with
rights and minors' rules that start later (Utah's right to correct from 2026-07-01) left out
until their day comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from privacyops.policy.manifest import Right, StateCode
from privacyops.policy.states import state_name


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RightScope(StrEnum):
    """How much of the consumer's data a right reaches."""

    all = "all"
    provided_by_consumer = "provided_by_consumer"  # UT, IA deletion; IN correction
    provided_or_obtained = "provided_or_obtained"  # VA deletion
    copy_or_summary = "copy_or_summary"  # IN portability: a copy or a representative summary


class RightRule(_Rule):
    right: Right
    effective_from: date | None = None
    scope: RightScope = RightScope.all
    max_per_year: Annotated[int, Field(ge=1)] | None = None
    certain: bool = Field(
        True, description="False where the statute is ambiguous (Iowa's targeted-ads opt-out)."
    )
    note: str | None = None
    source: str

    def in_effect(self, on: date) -> bool:
        return self.effective_from is None or self.effective_from <= on


class Deadline(_Rule):
    """Calendar days to answer a request, and the extension the law allows on notice."""

    days: Annotated[int, Field(ge=1)]
    extension_days: Annotated[int, Field(ge=0)]
    source: str


class AppealRule(_Rule):
    days: Annotated[int, Field(ge=1)] | None = Field(description="None: no appeal required.")
    extension_days: Annotated[int, Field(ge=0)] | None = None
    source: str


class UniversalOptOut(_Rule):
    """Whether a universal opt-out signal (GPC) must be honoured, and from when."""

    required_from: date | None
    source: str

    def required_on(self, on: date) -> bool:
        return self.required_from is not None and self.required_from <= on


class MinorTreatment(StrEnum):
    parental_consent = "parental_consent"
    consent = "consent"
    ban = "ban"


class MinorProcessing(StrEnum):
    any = "any"
    sale = "sale"
    sharing = "sharing"
    targeted_advertising = "targeted_advertising"
    profiling = "profiling"


# Processing that a policy's children's rule must keep away from minors.
SALE_OR_ADVERTISING = frozenset(
    {
        MinorProcessing.any,
        MinorProcessing.sale,
        MinorProcessing.sharing,
        MinorProcessing.targeted_advertising,
    }
)


class MinorsRule(_Rule):
    under_age: Annotated[int, Field(ge=1, le=21)]
    rule: MinorTreatment
    processing: list[MinorProcessing] = Field(min_length=1)
    effective_from: date | None = None
    note: str | None = None
    source: str

    def in_effect(self, on: date) -> bool:
        return self.effective_from is None or self.effective_from <= on

    def describe(self) -> str:
        """`under 18: sale and targeted advertising banned`."""
        names = [p.value.replace("_", " ") for p in self.processing]
        what = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
        if what == "any":
            what = "any processing"
        if self.rule is MinorTreatment.ban:
            return f"under {self.under_age}: {what} banned"
        who = "a parent's" if self.rule is MinorTreatment.parental_consent else "the minor's"
        return f"under {self.under_age}: {what} only with {who} consent"


class FreeRequests(_Rule):
    per_12_months: Annotated[int, Field(ge=1)] | None
    note: str | None = None
    source: str


class AgentScope(StrEnum):
    all_requests = "all_requests"
    opt_out_only = "opt_out_only"
    none = "none"
    unclear = "unclear"


class AuthorizedAgent(_Rule):
    scope: AgentScope
    note: str | None = None
    source: str


class ConsentRevocation(_Rule):
    """Days within which processing must stop after consent is withdrawn."""

    days: Annotated[int, Field(ge=1)]
    source: str


class StateLaw(_Rule):
    state: StateCode
    name: str
    short_name: str
    citation: str
    effective: date
    comprehensive: bool = True
    applies_to: str | None = None
    source: str
    rights: list[RightRule] = Field(min_length=1)
    response: Deadline
    appeal: AppealRule
    universal_opt_out: UniversalOptOut
    minors: list[MinorsRule]
    free_requests: FreeRequests
    authorized_agent: AuthorizedAgent
    consent_revocation: ConsentRevocation | None = None

    @model_validator(mode="after")
    def _one_rule_per_right(self) -> StateLaw:
        rights = [r.right for r in self.rights]
        if len(rights) != len(set(rights)):
            raise ValueError(f"{self.state}: a right is listed twice")
        return self

    @property
    def state_name(self) -> str:
        return state_name(self.state)

    def in_force(self, on: date) -> bool:
        return self.effective <= on


class JurisdictionTable(_Rule):
    laws: list[StateLaw]

    @model_validator(mode="after")
    def _one_law_per_state(self) -> JurisdictionTable:
        states = [law.state for law in self.laws]
        if len(states) != len(set(states)):
            raise ValueError("a state has two laws in the table")
        return self


@dataclass(frozen=True)
class StateRules:
    """A state's law as it stands on one day: only the rights and rules already in effect."""

    law: StateLaw
    on: date
    rights: tuple[RightRule, ...]
    minors: tuple[MinorsRule, ...]

    @property
    def state(self) -> str:
        return self.law.state

    def right(self, right: Right) -> RightRule | None:
        return next((r for r in self.rights if r.right == right), None)

    def grants(self, right: Right) -> bool:
        """Whether the law clearly grants `right` on this day (an ambiguous right does not
        count; see `right(...).certain`)."""
        rule = self.right(right)
        return rule is not None and rule.certain

    @property
    def universal_opt_out_required(self) -> bool:
        return self.law.universal_opt_out.required_on(self.on)

    def minors_rule(self) -> MinorsRule | None:
        """The rule reaching the oldest minors for sale or targeted advertising (a ban beats
        consent at the same age)."""
        relevant = [m for m in self.minors if SALE_OR_ADVERTISING.intersection(m.processing)]
        severity = {MinorTreatment.consent: 0, MinorTreatment.parental_consent: 1}
        return max(relevant, key=lambda m: (m.under_age, severity.get(m.rule, 2)), default=None)


@cache
def jurisdiction_table() -> JurisdictionTable:
    """The packaged table, validated once."""
    text = resources.files("privacyops.rights").joinpath("jurisdictions.yaml").read_text("utf-8")
    return JurisdictionTable.model_validate(yaml.safe_load(text))


def all_laws() -> list[StateLaw]:
    return list(jurisdiction_table().laws)


def law_for(state: str) -> StateLaw | None:
    return next((law for law in jurisdiction_table().laws if law.state == state), None)


def rules_on(state: str, on: date) -> StateRules | None:
    """The state's law as in force on `on`; None if the state has no law in force that day."""
    law = law_for(state)
    if law is None or not law.in_force(on):
        return None
    return StateRules(
        law=law,
        on=on,
        rights=tuple(r for r in law.rights if r.in_effect(on)),
        minors=tuple(m for m in law.minors if m.in_effect(on)),
    )


def laws_in_force(on: date) -> list[StateRules]:
    return [
        rules for law in jurisdiction_table().laws if (rules := rules_on(law.state, on)) is not None
    ]


def laws_enacted_not_in_force(on: date) -> list[StateLaw]:
    """Laws already on the books that take effect after `on`."""
    return [law for law in jurisdiction_table().laws if not law.in_force(on)]
