"""Warnings where a policy is behind the state laws in force on a given day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from privacyops.policy.findings import Finding
from privacyops.policy.lawcheck import check_against_law
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import (
    JurisdictionRights,
    PolicyManifest,
    Right,
    RightException,
)
from privacyops.rights.jurisdictions import all_laws
from tests.conftest import EXAMPLE_POLICY

FIXTURE = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"
LATE_2026 = date(2026, 11, 27)
ALL_RIGHTS = [
    Right.confirm,
    Right.access,
    Right.correction,
    Right.deletion,
    Right.portability,
    Right.opt_out_sale,
    Right.opt_out_sharing,
    Right.opt_out_targeted_advertising,
    Right.opt_out_profiling,
    Right.limit_sensitive,
]
UTAH_CORRECTION = (
    "Utah has granted the right to correct (correction) since 2026-07-01, but the policy lists "
    "it as an exception for Utah (source: Utah Code 13-61-201(4), added by HB 418 (2025 General "
    "Session), in effect 2026-07-01 [S])"
)
MINORS_16 = (
    "the children's rule covers children under 16, but state laws in force on 2026-11-27 also "
    "protect 16- and 17-year-olds from sale and targeted advertising: "
    "Colorado (under 18: targeted advertising, sale and profiling only with the minor's consent; "
    "source: SB 24-041 [2] bytebacklaw, legalclarity); "
    "Connecticut (under 18: targeted advertising and sale banned; source: SB 1295 (2025), from "
    "2026-07-01 [2] Kelley Drye, nope.net); "
    "Delaware (under 18: targeted advertising and sale only with the minor's consent; source: "
    "6 Del. C. ch. 12D: 13-17-year-olds opt in [S] DB p.183; [2] DE AG Parents and Kids); "
    "Maryland (under 18: targeted advertising and sale banned; source: Md. Code Com. Law "
    "14-4701 ff. [S] casetext 14-4605; [2] magnifyi); "
    "Montana (under 18: targeted advertising and sale only with the minor's consent; source: "
    "SB 297 (2025) [2] Kelley Drye, natlawreview); "
    "New Jersey (under 17: targeted advertising, sale and profiling only with the minor's "
    "consent; source: N.J.S.A. 56:8-166.4 ff.: 13-16-year-olds [K])"
)
SEVEN_UNNAMED = ["NE", "NH", "NJ", "MN", "MD", "KY", "RI"]


def minimal() -> PolicyManifest:
    loaded = load_manifest_file(FIXTURE)
    assert loaded.manifest is not None
    return loaded.manifest


def entry(
    state: str, rights: list[Right], exceptions: tuple[Right, ...] = ()
) -> JurisdictionRights:
    return JurisdictionRights(
        state=state,
        law=f"{state} privacy law",
        rights=rights,
        exceptions=[RightException(right=r, statement="Not here.") for r in exceptions],
    )


def with_rights(
    jurisdictions: list[JurisdictionRights], *, threshold: int = 16, nevada: bool = False
) -> PolicyManifest:
    base = minimal()
    rights = base.rights.model_copy(
        update={
            "jurisdictions": jurisdictions,
            "nevada_statement": "We do not sell covered information." if nevada else None,
        }
    )
    children = base.children.model_copy(update={"age_threshold": threshold})
    return base.model_copy(update={"rights": rights, "children": children})


def every_law(*, except_: tuple[str, ...] = ()) -> list[JurisdictionRights]:
    return [entry(law.state, ALL_RIGHTS) for law in all_laws() if law.state not in except_]


def messages(findings: list[Finding]) -> list[str]:
    assert all(f.severity == "warning" for f in findings)
    return [f.message for f in findings]


def test_no_warnings_when_the_policy_matches_the_law() -> None:
    manifest = with_rights(every_law(), threshold=18)
    for on in (date(2025, 1, 1), date(2026, 7, 1), LATE_2026, date(2027, 6, 1)):
        assert check_against_law(manifest, on) == []


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 6, 30), []),
        (date(2026, 7, 1), [UTAH_CORRECTION]),
        (LATE_2026, [UTAH_CORRECTION]),
    ],
)
def test_utah_correction_from_2026_07_01(on: date, expected: list[str]) -> None:
    jurisdictions = [*every_law(except_=("UT",)), entry("UT", ALL_RIGHTS, (Right.correction,))]
    findings = check_against_law(with_rights(jurisdictions, threshold=18), on)
    assert messages(findings) == expected
    if findings:
        utah = len(jurisdictions) - 1
        assert findings[0].path == ("rights", "jurisdictions", utah, "exceptions", 0, "right")


def test_utah_correction_missing_from_the_rights() -> None:
    rights = [r for r in ALL_RIGHTS if r is not Right.correction]
    manifest = with_rights([*every_law(except_=("UT",)), entry("UT", rights)], threshold=18)
    manifest = manifest.model_copy(
        update={"rights": manifest.rights.model_copy(update={"everyone": [Right.access]})}
    )
    assert messages(check_against_law(manifest, LATE_2026)) == [
        "Utah has granted the right to correct (correction) since 2026-07-01, but the policy "
        "does not list it for Utah (source: Utah Code 13-61-201(4), added by HB 418 (2025 "
        "General Session), in effect 2026-07-01 [S])"
    ]


def test_iowa_correction_exception_is_right_and_targeted_ads_is_a_recommendation() -> None:
    iowa = entry(
        "IA", ALL_RIGHTS, (Right.correction, Right.opt_out_targeted_advertising)
    ).model_copy(
        update={
            "rights": [
                r
                for r in ALL_RIGHTS
                if r not in (Right.correction, Right.opt_out_targeted_advertising)
            ]
        }
    )
    manifest = with_rights([*every_law(except_=("IA",)), iowa], threshold=18)
    assert messages(check_against_law(manifest, LATE_2026)) == [
        "Iowa: the right to opt out of targeted advertising (opt_out_targeted_advertising) is "
        "uncertain under the Iowa Consumer Data Protection Act (Iowa Code 715D): not among the "
        "rights of 715D.3, but 715D.4(6) requires a controller that engages in targeted "
        "advertising to disclose how consumers may opt out of it; the policy lists it as an "
        "exception for Iowa; honouring it is recommended (source: Iowa Code 715D.4(6) [2] "
        "revisionlegal; IAB GPP usia section; [MB]; research notes §0 #3)"
    ]


def test_unnamed_state_laws_each_named() -> None:
    manifest = with_rights(every_law(except_=tuple(SEVEN_UNNAMED)), threshold=18)
    findings = check_against_law(manifest, LATE_2026)
    assert [f.path for f in findings] == [("rights", "jurisdictions")] * 7
    assert messages(findings)[0] == (
        "Nebraska: the Nebraska Data Privacy Act (LB 1074 (2024)) has been in force since "
        "2025-01-01, but the policy does not name Nebraska; add NE to rights.jurisdictions with "
        "the rights it grants (confirm, access, correction, deletion, portability, "
        "opt_out_targeted_advertising, opt_out_sale, opt_out_profiling) (source: LB 1074 (2024) "
        "[S] DB p.320; [2] cliclaw, White & Case)"
    )
    names = ["Nebraska", "New Hampshire", "New Jersey", "Minnesota", "Maryland", "Kentucky"]
    for message, name in zip(messages(findings), [*names, "Rhode Island"], strict=True):
        assert message.startswith(f"{name}: the ")


def test_a_law_not_yet_in_force_is_not_missing() -> None:
    manifest = with_rights(every_law(except_=("KY", "RI")), threshold=18)
    assert check_against_law(manifest, date(2024, 6, 1)) == []
    # Within a year of taking effect, it is announced.
    assert [m.split(":")[0] for m in messages(check_against_law(manifest, date(2025, 6, 1)))] == [
        "Kentucky",
        "Rhode Island",
    ]


def test_nevada_is_named_by_its_statement() -> None:
    manifest = with_rights(every_law(except_=("NV",)), threshold=18, nevada=True)
    assert check_against_law(manifest, LATE_2026) == []
    unnamed = check_against_law(with_rights(every_law(except_=("NV",)), threshold=18), LATE_2026)
    assert messages(unnamed) == [
        "Nevada: the Nevada law on the sale of covered information (NRS 603A.300-603A.360) has "
        "been in force since 2019-10-01, but the policy does not name Nevada; add a statement "
        "for Nevada (rights.nevada_statement) with the rights it grants (opt_out_sale) (source: "
        "NRS 603A.300-.360 [S] instalawyer; effective date of the opt-out right (SB 220, 2019) "
        "[K])"
    ]


def test_laws_taking_effect_within_a_year() -> None:
    manifest = with_rights(every_law(except_=("OK", "LA", "AL")), threshold=18)
    assert check_against_law(manifest, date(2025, 12, 31)) == []
    assert messages(check_against_law(manifest, date(2026, 5, 1))) == [
        "Oklahoma: the Oklahoma Data Privacy Act (75A O.S. 300-315 (SB 546)) takes effect on "
        "2027-01-01 and the policy does not name Oklahoma yet (source: SB 546, signed 2026-03-20 "
        "[2] clym, cookieyes, fastdemocracy)",
        "Louisiana: the Louisiana Consumer Privacy Act (SB 386 (Act 502 of 2026)) takes effect on "
        "2027-01-01 and the policy does not name Louisiana yet (source: SB 386, Act 502, signed "
        "2026-05-29 [2] insideprivacy, privado, consumerfsblog, clym)",
        "Alabama: the Alabama Personal Data Protection Act (HB 351 (2026)) takes effect on "
        "2027-05-01 and the policy does not name Alabama yet (source: HB 351, signed 2026-04-17 "
        "[2] billtrack50, legaltechdigest, bamapolitics)",
    ]


def test_minors_beyond_the_children_threshold() -> None:
    findings = check_against_law(with_rights(every_law(), threshold=16), LATE_2026)
    assert messages(findings) == [MINORS_16]
    assert findings[0].path == ("children", "age_threshold")


def test_minors_threshold_17_and_before_the_amendments() -> None:
    findings = check_against_law(with_rights(every_law(), threshold=17), date(2025, 6, 1))
    # Before 2025-10-01 only Connecticut and Delaware protect 17-year-olds (CO, MT, MD later).
    assert messages(findings) == [
        "the children's rule covers children under 17, but state laws in force on 2025-06-01 "
        "also protect 17-year-olds from sale and targeted advertising: Connecticut (under 18: "
        "targeted advertising, sale and profiling only with the minor's consent; source: "
        "minors' protections since 2024-10-01 [2] CT AG release, nope.net); Delaware (under 18: "
        "targeted advertising and sale only with the minor's consent; source: 6 Del. C. ch. 12D: "
        "13-17-year-olds opt in [S] DB p.183; [2] DE AG Parents and Kids)"
    ]


def test_minimal_fixture_in_late_2026() -> None:
    findings = check_against_law(minimal(), LATE_2026)
    unnamed = [m.split(":")[0] for m in messages(findings) if "does not name" in m]
    # Every law in force (20 comprehensive and Nevada's) but California's, and three upcoming.
    assert len(unnamed) == 20 + 3
    assert "California" not in unnamed
    assert MINORS_16 in messages(findings)


def test_reference_policy_in_late_2026() -> None:
    loaded = load_manifest_file(EXAMPLE_POLICY, law_check=check_against_law, on=LATE_2026)
    assert loaded.errors == []
    warnings = [w.message for w in loaded.warnings]
    assert UTAH_CORRECTION in warnings
    assert MINORS_16 in warnings
    names = ["Nebraska", "New Hampshire", "New Jersey", "Minnesota", "Maryland", "Kentucky"]
    for name in [*names, "Rhode Island"]:
        assert any(w.startswith(f"{name}: the ") and "does not name" in w for w in warnings)
