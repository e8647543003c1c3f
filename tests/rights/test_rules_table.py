"""For every state in the table, a state without a law, and the reference policy: which request
types are accepted (and on which basis), when the answer is due, and the appeal rule, on the
days either side of each rule's effective date.

The expected values are written out by hand from the research notes
(shared/reference/us-privacy-rules.md §1.1 rights, §1.2 deadlines and appeals, §1.3 laws of
2027, §2 "15 business days" for opt-outs) and the reference policy
(examples/miniso-usa/policy.yaml: `everyone` = access, correction, deletion; section 14's
per-state lists and exceptions). Due dates were counted on a calendar: calendar days from the
receipt day; opt-outs in business days, skipping weekends and observed federal holidays.

Every request is received at 17:00 UTC, which is the same calendar day in every state of the
table (9:00 or 10:00 in the Pacific zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NamedTuple

import pytest

from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest
from privacyops.rights.rules import Basis, RequestType, decide, extension_due_at

REFERENCE_POLICY = Path(__file__).parents[2] / "examples" / "miniso-usa" / "policy.yaml"

# Shorthands for the sets of request types that recur (still literal: no code computes them).
ALL_TEN = (
    "confirm access portability deletion correction opt_out_sale opt_out_sharing "
    "opt_out_targeted_advertising opt_out_profiling limit_sensitive"
)
# Virginia-model law (§1.1): confirm/access, delete, correct, portability, the three opt-outs
# (sharing = targeted advertising), and an appeal (§1.2).
VA_MODEL = (
    "confirm access portability deletion correction opt_out_sale opt_out_sharing "
    "opt_out_targeted_advertising opt_out_profiling appeal"
)
EVERYONE = "access deletion correction"  # the policy's section 8
LIMIT = "limit_sensitive"
d = date
NONE = ""


class Row(NamedTuple):
    state: str
    received: date
    by_law: str  # types granted by the law in force (basis state_law)
    by_policy: str  # types granted only by the policy (basis policy)
    access_due: date  # due day of an access request, in the state
    opt_out_due: date | None  # due day of an opt-out of sale; None: refused
    appeal_days: int | None  # the appeal rule: days to answer an appeal; None: no appeal
    appeal_due: date | None  # due day of an appeal received that day; None: refused


TODAY = date(2026, 11, 27)  # a Friday, the day after Thanksgiving
# From 2026-11-27: +45 days = 2027-01-11, +60 = 2027-01-26, +90 = 2027-02-25;
# 15 business days = 2026-12-18.

ROWS = [
    # --- every state on one day ----------------------------------------------------------
    # CA: no confirm right of its own (the policy offers it), ADMT opt-out only from 2027,
    # no appeal (§1.2 "No statutory appeal").
    Row(
        "CA",
        TODAY,
        "access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "confirm opt_out_profiling",
        d(2027, 1, 11),
        d(2026, 12, 18),
        None,
        None,
    ),
    Row("VA", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("CO", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 45, d(2027, 1, 11)),
    Row("CT", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    # UT: correction since 2026-07-01 (HB 418) beats the policy's exception; no profiling
    # opt-out in the law (the policy offers it); no appeal.
    Row(
        "UT",
        TODAY,
        "confirm access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "opt_out_profiling",
        d(2027, 1, 11),
        d(2026, 12, 18),
        None,
        None,
    ),
    Row("TX", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("FL", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("OR", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 45, d(2027, 1, 11)),
    Row("MT", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    # IA: 90 days; no correction and no targeted-ads opt-out (law and policy exceptions);
    # profiling opt-out offered by the policy only.
    Row(
        "IA",
        TODAY,
        "confirm access portability deletion opt_out_sale limit_sensitive appeal",
        "opt_out_profiling",
        d(2027, 2, 25),
        d(2026, 12, 18),
        60,
        d(2027, 1, 26),
    ),
    Row("DE", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("TN", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("IN", TODAY, VA_MODEL, LIMIT, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    # NE, NH, NJ, MN, MD, KY, RI: not named by the policy, so no limit_sensitive.
    Row("NE", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("NH", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("NJ", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 45, d(2027, 1, 11)),
    Row("MN", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 45, d(2027, 1, 11)),
    Row("MD", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("KY", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    Row("RI", TODAY, VA_MODEL, NONE, d(2027, 1, 11), d(2026, 12, 18), 60, d(2027, 1, 26)),
    # NV: only the opt-out of sale by law; the policy's `everyone` rights on its own terms.
    Row("NV", TODAY, "opt_out_sale", EVERYONE, d(2027, 1, 11), d(2026, 12, 18), None, None),
    # Enacted, not yet in force; and a state without a law.
    Row("OK", TODAY, NONE, EVERYONE, d(2027, 1, 11), None, None, None),
    Row("LA", TODAY, NONE, EVERYONE, d(2027, 1, 11), None, None, None),
    Row("AL", TODAY, NONE, EVERYONE, d(2027, 1, 11), None, None, None),
    Row("NY", TODAY, NONE, EVERYONE, d(2027, 1, 11), None, None, None),
    # --- either side of each law's effective date ----------------------------------------
    # CA law 2020-01-01. Before: the policy's California list, on its terms. The first
    # business day after either day is 2020-01-02; MLK Day is 2020-01-20.
    Row("CA", d(2019, 12, 31), NONE, ALL_TEN, d(2020, 2, 14), d(2020, 1, 23), None, None),
    Row(
        "CA",
        d(2020, 1, 1),
        "access portability deletion opt_out_sale",
        "confirm correction opt_out_sharing opt_out_targeted_advertising opt_out_profiling "
        "limit_sensitive",
        d(2020, 2, 15),
        d(2020, 1, 23),
        None,
        None,
    ),
    # CA correction, sharing, limit from 2023-01-01 (CPRA). 2023-01-02 is New Year observed,
    # 2023-01-16 MLK Day.
    Row(
        "CA",
        d(2022, 12, 31),
        "access portability deletion opt_out_sale",
        "confirm correction opt_out_sharing opt_out_targeted_advertising opt_out_profiling "
        "limit_sensitive",
        d(2023, 2, 14),
        d(2023, 1, 24),
        None,
        None,
    ),
    Row(
        "CA",
        d(2023, 1, 1),
        "access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "confirm opt_out_profiling",
        d(2023, 2, 15),
        d(2023, 1, 24),
        None,
        None,
    ),
    # CA ADMT opt-out from 2027-01-01. 2027-01-01 is a holiday, 2027-01-18 MLK Day.
    Row(
        "CA",
        d(2026, 12, 31),
        "access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "confirm opt_out_profiling",
        d(2027, 2, 14),
        d(2027, 1, 25),
        None,
        None,
    ),
    Row(
        "CA",
        d(2027, 1, 1),
        "access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising opt_out_profiling limit_sensitive",
        "confirm",
        d(2027, 2, 15),
        d(2027, 1, 25),
        None,
        None,
    ),
    # VA 2023-01-01. Before: the policy's list on its terms, no appeal.
    Row("VA", d(2022, 12, 31), NONE, ALL_TEN, d(2023, 2, 14), d(2023, 1, 24), None, None),
    Row("VA", d(2023, 1, 1), VA_MODEL, LIMIT, d(2023, 2, 15), d(2023, 1, 24), 60, d(2023, 3, 2)),
    # CO and CT 2023-07-01 (2023-07-04 a Tuesday holiday).
    Row("CO", d(2023, 6, 30), NONE, ALL_TEN, d(2023, 8, 14), d(2023, 7, 24), None, None),
    Row("CO", d(2023, 7, 1), VA_MODEL, LIMIT, d(2023, 8, 15), d(2023, 7, 24), 45, d(2023, 8, 15)),
    Row("CT", d(2023, 6, 30), NONE, ALL_TEN, d(2023, 8, 14), d(2023, 7, 24), None, None),
    Row("CT", d(2023, 7, 1), VA_MODEL, LIMIT, d(2023, 8, 15), d(2023, 7, 24), 60, d(2023, 8, 30)),
    # UT 2023-12-31. The policy's exception removes correction even before the law.
    Row(
        "UT",
        d(2023, 12, 30),
        NONE,
        "confirm access portability deletion opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising opt_out_profiling limit_sensitive",
        d(2024, 2, 13),
        d(2024, 1, 23),
        None,
        None,
    ),
    Row(
        "UT",
        d(2023, 12, 31),
        "confirm access portability deletion opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "opt_out_profiling",
        d(2024, 2, 14),
        d(2024, 1, 23),
        None,
        None,
    ),
    # UT correction from 2026-07-01 (HB 418). 2026-07-03 is Independence Day observed.
    Row(
        "UT",
        d(2026, 6, 30),
        "confirm access portability deletion opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "opt_out_profiling",
        d(2026, 8, 14),
        d(2026, 7, 22),
        None,
        None,
    ),
    Row(
        "UT",
        d(2026, 7, 1),
        "confirm access portability deletion correction opt_out_sale opt_out_sharing "
        "opt_out_targeted_advertising limit_sensitive",
        "opt_out_profiling",
        d(2026, 8, 15),
        d(2026, 7, 23),
        None,
        None,
    ),
    # TX, FL, OR 2024-07-01 (2024-07-04 a Thursday holiday).
    Row("TX", d(2024, 6, 30), NONE, ALL_TEN, d(2024, 8, 14), d(2024, 7, 22), None, None),
    Row("TX", d(2024, 7, 1), VA_MODEL, LIMIT, d(2024, 8, 15), d(2024, 7, 23), 60, d(2024, 8, 30)),
    Row("FL", d(2024, 6, 30), NONE, ALL_TEN, d(2024, 8, 14), d(2024, 7, 22), None, None),
    Row("FL", d(2024, 7, 1), VA_MODEL, LIMIT, d(2024, 8, 15), d(2024, 7, 23), 60, d(2024, 8, 30)),
    Row("OR", d(2024, 6, 30), NONE, ALL_TEN, d(2024, 8, 14), d(2024, 7, 22), None, None),
    Row("OR", d(2024, 7, 1), VA_MODEL, LIMIT, d(2024, 8, 15), d(2024, 7, 23), 45, d(2024, 8, 15)),
    # MT 2024-10-01 (Columbus Day 2024-10-14).
    Row("MT", d(2024, 9, 30), NONE, ALL_TEN, d(2024, 11, 14), d(2024, 10, 22), None, None),
    Row(
        "MT", d(2024, 10, 1), VA_MODEL, LIMIT, d(2024, 11, 15), d(2024, 10, 23), 60, d(2024, 11, 30)
    ),
    # IA 2025-01-01: 45 days on the policy's terms the day before, 90 days under the law.
    # MLK Day 2025-01-20.
    Row(
        "IA",
        d(2024, 12, 31),
        NONE,
        "confirm access portability deletion opt_out_sale opt_out_profiling limit_sensitive",
        d(2025, 2, 14),
        d(2025, 1, 23),
        None,
        None,
    ),
    Row(
        "IA",
        d(2025, 1, 1),
        "confirm access portability deletion opt_out_sale limit_sensitive appeal",
        "opt_out_profiling",
        d(2025, 4, 1),
        d(2025, 1, 23),
        60,
        d(2025, 3, 2),
    ),
    # DE, NE, NH 2025-01-01. NE and NH are not named by the policy: `everyone` only before.
    Row("DE", d(2024, 12, 31), NONE, ALL_TEN, d(2025, 2, 14), d(2025, 1, 23), None, None),
    Row("DE", d(2025, 1, 1), VA_MODEL, LIMIT, d(2025, 2, 15), d(2025, 1, 23), 60, d(2025, 3, 2)),
    Row("NE", d(2024, 12, 31), NONE, EVERYONE, d(2025, 2, 14), None, None, None),
    Row("NE", d(2025, 1, 1), VA_MODEL, NONE, d(2025, 2, 15), d(2025, 1, 23), 60, d(2025, 3, 2)),
    Row("NH", d(2024, 12, 31), NONE, EVERYONE, d(2025, 2, 14), None, None, None),
    Row("NH", d(2025, 1, 1), VA_MODEL, NONE, d(2025, 2, 15), d(2025, 1, 23), 60, d(2025, 3, 2)),
    # NJ 2025-01-15; appeal 45 days.
    Row("NJ", d(2025, 1, 14), NONE, EVERYONE, d(2025, 2, 28), None, None, None),
    Row("NJ", d(2025, 1, 15), VA_MODEL, NONE, d(2025, 3, 1), d(2025, 2, 6), 45, d(2025, 3, 1)),
    # TN 2025-07-01 (2025-07-04 a Friday holiday).
    Row("TN", d(2025, 6, 30), NONE, ALL_TEN, d(2025, 8, 14), d(2025, 7, 22), None, None),
    Row("TN", d(2025, 7, 1), VA_MODEL, LIMIT, d(2025, 8, 15), d(2025, 7, 23), 60, d(2025, 8, 30)),
    # MN 2025-07-31; appeal 45 days.
    Row("MN", d(2025, 7, 30), NONE, EVERYONE, d(2025, 9, 13), None, None, None),
    Row("MN", d(2025, 7, 31), VA_MODEL, NONE, d(2025, 9, 14), d(2025, 8, 21), 45, d(2025, 9, 14)),
    # MD 2025-10-01 (Columbus Day 2025-10-13).
    Row("MD", d(2025, 9, 30), NONE, EVERYONE, d(2025, 11, 14), None, None, None),
    Row(
        "MD", d(2025, 10, 1), VA_MODEL, NONE, d(2025, 11, 15), d(2025, 10, 23), 60, d(2025, 11, 30)
    ),
    # IN, KY, RI 2026-01-01 (MLK Day 2026-01-19). IN is named by the policy, KY and RI not.
    Row("IN", d(2025, 12, 31), NONE, ALL_TEN, d(2026, 2, 14), d(2026, 1, 23), None, None),
    Row("IN", d(2026, 1, 1), VA_MODEL, LIMIT, d(2026, 2, 15), d(2026, 1, 23), 60, d(2026, 3, 2)),
    Row("KY", d(2025, 12, 31), NONE, EVERYONE, d(2026, 2, 14), None, None, None),
    Row("KY", d(2026, 1, 1), VA_MODEL, NONE, d(2026, 2, 15), d(2026, 1, 23), 60, d(2026, 3, 2)),
    Row("RI", d(2025, 12, 31), NONE, EVERYONE, d(2026, 2, 14), None, None, None),
    Row("RI", d(2026, 1, 1), VA_MODEL, NONE, d(2026, 2, 15), d(2026, 1, 23), 60, d(2026, 3, 2)),
    # NV 2019-10-01 (Columbus Day 2019-10-14): the policy's Nevada list before the law.
    Row(
        "NV",
        d(2019, 9, 30),
        NONE,
        "access deletion correction opt_out_sale",
        d(2019, 11, 14),
        d(2019, 10, 22),
        None,
        None,
    ),
    Row(
        "NV", d(2019, 10, 1), "opt_out_sale", EVERYONE, d(2019, 11, 15), d(2019, 10, 23), None, None
    ),
    # OK and LA 2027-01-01, AL 2027-05-01 (§1.3): appeal 60 days.
    Row("OK", d(2026, 12, 31), NONE, EVERYONE, d(2027, 2, 14), None, None, None),
    Row("OK", d(2027, 1, 1), VA_MODEL, NONE, d(2027, 2, 15), d(2027, 1, 25), 60, d(2027, 3, 2)),
    Row("LA", d(2026, 12, 31), NONE, EVERYONE, d(2027, 2, 14), None, None, None),
    Row("LA", d(2027, 1, 1), VA_MODEL, NONE, d(2027, 2, 15), d(2027, 1, 25), 60, d(2027, 3, 2)),
    Row("AL", d(2027, 4, 30), NONE, EVERYONE, d(2027, 6, 14), None, None, None),
    Row("AL", d(2027, 5, 1), VA_MODEL, NONE, d(2027, 6, 15), d(2027, 5, 21), 60, d(2027, 6, 30)),
]


@pytest.fixture(scope="module")
def policy() -> PolicyManifest:
    loaded = load_manifest_file(REFERENCE_POLICY)
    assert loaded.manifest is not None, loaded.problems
    return loaded.manifest


def _received(day: date) -> datetime:
    return datetime.combine(day, time(17), tzinfo=UTC)


def _ids(row: Row) -> str:
    return f"{row.state}-{row.received}"


def test_the_table_covers_every_state_in_the_law_table() -> None:
    from privacyops.rights.jurisdictions import all_laws

    assert {law.state for law in all_laws()} | {"NY"} == {row.state for row in ROWS}
    assert len({law.state for law in all_laws()}) == 24  # 20 laws, Nevada, OK, LA, AL


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_accepted_types_and_basis(row: Row, policy: PolicyManifest) -> None:
    decisions = [decide(t, row.state, _received(row.received), policy) for t in RequestType]
    by_law = {d.request_type.value for d in decisions if d.allowed and d.basis is Basis.state_law}
    by_policy = {d.request_type.value for d in decisions if d.allowed and d.basis is Basis.policy}
    assert by_law == set(row.by_law.split())
    assert by_policy == set(row.by_policy.split())
    for refused in (d for d in decisions if not d.allowed):
        assert refused.deadline is None
        assert refused.basis is None
        assert " residents have no right " in refused.reason


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_due_dates(row: Row, policy: PolicyManifest) -> None:
    access = decide(RequestType.access, row.state, _received(row.received), policy)
    assert access.deadline is not None
    assert access.deadline.due_on == row.access_due
    assert access.deadline.received_on == row.received
    assert not access.deadline.business_days
    opt_out = decide(RequestType.opt_out_sale, row.state, _received(row.received), policy)
    if row.opt_out_due is None:
        assert not opt_out.allowed
    else:
        assert opt_out.deadline is not None
        assert (opt_out.deadline.due_on, opt_out.deadline.days) == (row.opt_out_due, 15)
        assert opt_out.deadline.business_days
        assert opt_out.deadline.extension_days == 0


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_appeal_rule(row: Row, policy: PolicyManifest) -> None:
    access = decide(RequestType.access, row.state, _received(row.received), policy)
    assert access.appeal_days == row.appeal_days
    appeal = decide(RequestType.appeal, row.state, _received(row.received), policy)
    if row.appeal_due is None:
        assert not appeal.allowed
    else:
        assert appeal.allowed
        assert appeal.deadline is not None
        assert appeal.deadline.due_on == row.appeal_due


# The one extension, from the original due day (§1.2; Florida +15 only, Iowa 90 + 45), for a
# request received on 2026-11-27.
EXTENSIONS = [
    ("CA", date(2027, 2, 25)),  # 2027-01-11 + 45
    ("FL", date(2027, 1, 26)),  # 2027-01-11 + 15
    ("IA", date(2027, 4, 11)),  # 2027-02-25 + 45
    ("NV", date(2027, 2, 25)),  # the policy's terms: 45 + 45
    ("NY", date(2027, 2, 25)),  # the policy's terms: 45 + 45
]


@pytest.mark.parametrize(("state", "extended_due"), EXTENSIONS)
def test_extension(state: str, extended_due: date, policy: PolicyManifest) -> None:
    from privacyops.rights.calendar import end_of_day

    decision = decide(RequestType.deletion, state, _received(TODAY), policy)
    assert extension_due_at(decision) == end_of_day(extended_due, state)
