"""The state-law table: what each law requires on a given day, either side of effective dates."""

from __future__ import annotations

from datetime import date

import pytest

from privacyops.policy.manifest import Right
from privacyops.rights.jurisdictions import (
    AgentScope,
    RightScope,
    all_laws,
    laws_enacted_not_in_force,
    laws_in_force,
    rules_on,
)

LATE_2026 = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("state", "on", "right", "granted"),
    [
        ("UT", date(2026, 6, 30), Right.correction, False),
        ("UT", date(2026, 7, 1), Right.correction, True),
        ("IA", LATE_2026, Right.correction, False),
        # Iowa's targeted-ads opt-out is ambiguous (715D.4(6)): listed, but not granted.
        ("IA", LATE_2026, Right.opt_out_targeted_advertising, False),
        ("CA", date(2022, 12, 31), Right.correction, False),
        ("CA", date(2023, 1, 1), Right.correction, True),
        ("CA", date(2026, 12, 31), Right.opt_out_profiling, False),
        ("CA", date(2027, 1, 1), Right.opt_out_profiling, True),
        ("NV", LATE_2026, Right.opt_out_sale, True),
        ("NV", LATE_2026, Right.access, False),
        ("VA", LATE_2026, Right.opt_out_profiling, True),
    ],
)
def test_rights_on_a_day(state: str, on: date, right: Right, granted: bool) -> None:
    rules = rules_on(state, on)
    assert rules is not None
    assert rules.grants(right) is granted


@pytest.mark.parametrize(
    ("state", "on", "in_force"),
    [
        ("KY", date(2025, 12, 31), False),
        ("KY", date(2026, 1, 1), True),
        ("MN", date(2025, 7, 30), False),
        ("MN", date(2025, 7, 31), True),
        ("OK", date(2026, 12, 31), False),
        ("OK", date(2027, 1, 1), True),
        ("AL", date(2027, 4, 30), False),
        ("AL", date(2027, 5, 1), True),
        ("WY", LATE_2026, False),
    ],
)
def test_law_in_force(state: str, on: date, in_force: bool) -> None:
    assert (rules_on(state, on) is not None) is in_force


@pytest.mark.parametrize(
    ("state", "on", "under_age", "rule"),
    [
        ("CT", date(2026, 6, 30), 18, "consent"),
        ("CT", date(2026, 7, 1), 18, "ban"),
        ("CO", date(2025, 9, 30), 13, "parental_consent"),
        ("CO", date(2025, 10, 1), 18, "consent"),
        ("MT", date(2025, 9, 30), 16, "consent"),
        ("MT", date(2025, 10, 1), 18, "consent"),
        ("MD", LATE_2026, 18, "ban"),
        ("DE", LATE_2026, 18, "consent"),
        ("NJ", LATE_2026, 17, "consent"),
        ("OR", LATE_2026, 16, "ban"),
        ("CA", LATE_2026, 16, "consent"),
        ("TX", LATE_2026, 13, "parental_consent"),
    ],
)
def test_minors_rule_on_a_day(state: str, on: date, under_age: int, rule: str) -> None:
    rules = rules_on(state, on)
    assert rules is not None
    minors = rules.minors_rule()
    assert minors is not None
    assert (minors.under_age, minors.rule.value) == (under_age, rule)


@pytest.mark.parametrize(
    ("state", "days", "extension", "appeal"),
    [("IA", 90, 45, 60), ("FL", 45, 15, 60), ("NV", 60, 30, None), ("CA", 45, 45, None)],
)
def test_deadlines(state: str, days: int, extension: int, appeal: int | None) -> None:
    rules = rules_on(state, LATE_2026)
    assert rules is not None
    assert (rules.law.response.days, rules.law.response.extension_days) == (days, extension)
    assert rules.law.appeal.days == appeal


@pytest.mark.parametrize(
    ("state", "on", "required"),
    [
        ("OR", date(2025, 12, 31), False),
        ("OR", date(2026, 1, 1), True),
        ("NJ", date(2025, 7, 14), False),
        ("NJ", date(2025, 7, 15), True),
        ("UT", LATE_2026, False),
    ],
)
def test_universal_opt_out(state: str, on: date, required: bool) -> None:
    rules = rules_on(state, on)
    assert rules is not None
    assert rules.universal_opt_out_required is required


def test_scopes_and_agents() -> None:
    utah = rules_on("UT", LATE_2026)
    indiana = rules_on("IN", LATE_2026)
    california = rules_on("CA", LATE_2026)
    assert utah is not None
    assert indiana is not None
    assert california is not None
    deletion = utah.right(Right.deletion)
    portability = indiana.right(Right.portability)
    assert deletion is not None
    assert deletion.scope is RightScope.provided_by_consumer
    assert portability is not None
    assert portability.scope is RightScope.copy_or_summary
    assert portability.max_per_year == 1
    assert california.law.authorized_agent.scope is AgentScope.all_requests
    assert california.law.free_requests.per_12_months == 2


def test_twenty_laws_in_force_in_late_2026_and_three_enacted() -> None:
    comprehensive = [r.state for r in laws_in_force(LATE_2026) if r.law.comprehensive]
    assert len(comprehensive) == 20
    assert "FL" in comprehensive
    assert sorted(law.state for law in laws_enacted_not_in_force(LATE_2026)) == ["AL", "LA", "OK"]


def test_every_rule_names_its_source() -> None:
    for law in all_laws():
        sources = [
            law.source,
            law.response.source,
            law.appeal.source,
            law.universal_opt_out.source,
            law.free_requests.source,
            law.authorized_agent.source,
            *(r.source for r in law.rights),
            *(m.source for m in law.minors),
        ]
        assert all(s.strip() for s in sources), law.state
