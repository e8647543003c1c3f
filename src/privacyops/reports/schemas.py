"""The CCPA 11 CCR 7102 metrics: the request kinds the regulation counts, how our request types
and denial reasons map onto them, and the figures of one calendar year."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel

from privacyops.dsr.status import DenialReason
from privacyops.rights.rules import RequestType

FIRST_YEAR = 2020  # the CCPA took effect on 1 January 2020: no earlier year has metrics


class ReportKind(StrEnum):
    """The five kinds of request of 7102(a)(1)(A)-(E), in the regulation's order."""

    delete = "delete"
    correct = "correct"
    know = "know"
    opt_out = "opt_out"
    limit = "limit"


KIND_LABELS: Mapping[ReportKind, str] = MappingProxyType(
    {
        ReportKind.delete: "Requests to delete",
        ReportKind.correct: "Requests to correct",
        ReportKind.know: "Requests to know",
        ReportKind.opt_out: "Requests to opt out of sale/sharing",
        ReportKind.limit: "Requests to limit",
    }
)
# Short names for the chart's axis.
KIND_SHORT: Mapping[ReportKind, str] = MappingProxyType(
    {
        ReportKind.delete: "Delete",
        ReportKind.correct: "Correct",
        ReportKind.know: "Know",
        ReportKind.opt_out: "Opt out of sale/sharing",
        ReportKind.limit: "Limit",
    }
)

KIND_OF_TYPE: Mapping[str, ReportKind] = MappingProxyType(
    {
        RequestType.deletion: ReportKind.delete,
        RequestType.correction: ReportKind.correct,
        # The CCPA's right to know (1798.110, 1798.130(a)(2)) covers the categories, the specific
        # pieces (our access) and a portable copy of them (our portability); confirming whether
        # we process someone's information is the least of it: all three are requests to know.
        RequestType.access: ReportKind.know,
        RequestType.confirm: ReportKind.know,
        RequestType.portability: ReportKind.know,
        # "Sharing" in the CCPA is disclosure for cross-context behavioral advertising
        # (1798.140(ah)): the other states' opt-out of targeted advertising is the same request
        # under another name, so it is counted here too when everyone is reported.
        RequestType.opt_out_sale: ReportKind.opt_out,
        RequestType.opt_out_sharing: ReportKind.opt_out,
        RequestType.opt_out_targeted_advertising: ReportKind.opt_out,
        RequestType.limit_sensitive: ReportKind.limit,
        # Not counted: opt_out_profiling (no 7102 kind; the CCPA's ADMT opt-out comes in 2027)
        # and appeals (a second look at a request already counted once).
    }
)
TYPES_OF_KIND: Mapping[ReportKind, tuple[str, ...]] = MappingProxyType(
    {
        kind: tuple(t.value for t in RequestType if KIND_OF_TYPE.get(t) is kind)
        for kind in ReportKind
    }
)


class DenialGround(StrEnum):
    """The optional split of denials of 7102(a)(2)."""

    not_verifiable = "not_verifiable"
    not_by_consumer = "not_by_consumer"
    exempt = "exempt"
    other = "other"


GROUND_LABELS: Mapping[DenialGround, str] = MappingProxyType(
    {
        DenialGround.not_verifiable: "not verifiable",
        DenialGround.not_by_consumer: "not made by a consumer",
        DenialGround.exempt: "exempt information",
        DenialGround.other: "other grounds",
    }
)

GROUND_OF_REASON: Mapping[str, DenialGround] = MappingProxyType(
    {
        DenialReason.could_not_verify: DenialGround.not_verifiable,
        # A CCPA "consumer" is a California resident (1798.140(i)): a request from someone whose
        # state grants no such right was not made by a consumer.
        DenialReason.not_a_resident: DenialGround.not_by_consumer,
        DenialReason.exemption: DenialGround.exempt,
        # Manifestly unfounded or excessive, no data found, duplicate, other: other grounds.
    }
)


def ground_of(reason: str | None) -> DenialGround:
    return GROUND_OF_REASON.get(reason or "", DenialGround.other)


class Scope(StrEnum):
    """7102(b): a business may report every individual if it says so; California only is
    always available (the regulator may ask for it)."""

    all = "all"
    california = "california"


SCOPE_LABELS: Mapping[Scope, str] = MappingProxyType(
    {
        Scope.all: "all individuals (not only California consumers)",
        Scope.california: "California consumers only",
    }
)


class KindMetrics(BaseModel):
    kind: ReportKind
    label: str
    received: int
    complied: int
    denied: int
    denied_not_verifiable: int
    denied_not_by_consumer: int
    denied_exempt: int
    denied_other: int
    responses_timed: int
    median_days: float | None
    mean_days: float | None


class Metrics(BaseModel):
    year: int
    scope: Scope
    scope_label: str
    year_complete: bool
    kinds: list[KindMetrics]

    def kind(self, kind: ReportKind) -> KindMetrics:
        return next(k for k in self.kinds if k.kind is kind)
