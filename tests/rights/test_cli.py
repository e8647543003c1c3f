"""`privacyops rules show STATE` and `privacyops rules list`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from privacyops.cli import app
from privacyops.errors import InvalidInput, PrivacyOpsError

REFERENCE_POLICY = Path(__file__).parents[2] / "examples" / "miniso-usa" / "policy.yaml"
PRIVACYOPS = Path(sys.executable).parent / "privacyops"
runner = CliRunner()


def show(*args: str) -> list[str]:
    result = runner.invoke(app, ["rules", "show", *args, "--policy", str(REFERENCE_POLICY)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_show_utah_either_side_of_the_right_to_correct() -> None:
    before = show("UT", "--on", "2026-06-30")
    assert before[0] == "Utah (UT) on 2026-06-30"
    assert before[1] == (
        "Law: Utah Consumer Privacy Act (UCPA), Utah Code 13-61-101 ff., in force since 2023-12-31"
    )
    correction = (
        "  correction (from 2026-07-01) - Utah Code 13-61-201(4), added by HB 418 (2025 General "
        "Session), in effect 2026-07-01 [S]"
    )
    assert before[before.index("Rights that start later:") + 1] == correction
    assert "Appeal: no appeal duty - no appeal in the UCPA [2] Utah DCP release" in before
    assert (
        "  correction: Utah residents have no right to correct under the Utah Consumer "
        "Privacy Act (Utah Code 13-61-101 ff.), and our privacy policy excludes Utah from this "
        "right." in before
    )
    after = show("UT", "--on", "2026-07-01")
    assert "Rights that start later:" not in after
    granted = after[after.index("Rights granted by the law:") + 1 : after.index(correction) + 1]
    assert correction in granted
    assert (
        "  correction: state law; 45 days, extension 45 (due 2026-08-15); verification "
        "standard; no appeal; no agents"
    ) in after


def test_show_iowa_lists_every_rule_with_its_source() -> None:
    lines = show("IA", "--on", "2026-11-27")
    assert (
        "Response: 90 days, extension 45 days - Iowa Code 715D [2] recordinglaw, optery; [MB]"
        in lines
    )
    assert (
        "Opt-outs: 15 business days, no extension - 11 CCR 7026(f) and 7027: 15 business "
        "days, applied to opt-outs from every state"
    ) in lines
    assert "Appeal: 60 days - [K]" in lines
    assert "Universal opt-out (GPC): not required - no universal opt-out duty [2]" in lines
    assert (
        "  under 13: any processing only with a parent's consent - Iowa Code 715D (COPPA) [2] [MB]"
        in lines
    )
    assert "Free requests: 2 per 12 months - [K]" in lines
    assert "Authorized agents: not provided for - [2] [MB]" in lines
    assert any(
        line.startswith("  opt_out_targeted_advertising (") and "uncertain" in line
        for line in lines
    )
    assert (
        "  access: state law; 90 days, extension 45 (due 2027-02-25); verification standard; "
        "appeal 60 days; no agents"
    ) in lines


def test_show_california_procedure() -> None:
    lines = show("CA", "--on", "2026-11-27")
    assert (
        "Universal opt-out (GPC): required since 2023-03-29 - 11 CCR 7025 (CPPA regulations, "
        "29 Mar 2023) [S]; earlier AG regulation 999.315(c) from 2020-08-14 [K]"
    ) in lines
    assert "Authorized agents: allowed for every request - 11 CCR 7063 [S] DB p.96" in lines
    assert "Minors:" in lines
    assert (
        "  under 16: sale and sharing only with the minor's consent - Cal. Civ. Code "
        "1798.120(c): 13-15-year-olds opt in themselves [S]"
    ) in lines


def test_show_a_state_without_a_law() -> None:
    lines = show("NY", "--on", "2026-11-27")
    assert lines[:3] == [
        "New York (NY) on 2026-11-27",
        "No state privacy law is in force in New York on 2026-11-27: residents get what the "
        "policy offers everyone.",
        "Requests accepted from New York residents on 2026-11-27, under the policy only "
        "(MINISO USA Privacy Policy):",
    ]
    accepted = lines[3 : lines.index("Refused:")]
    assert accepted == [
        f"  {kind}: policy; 45 days, extension 45 (due 2027-01-11); verification standard; "
        "no appeal; no agents"
        for kind in ("access", "deletion", "correction")
    ]


def test_show_a_law_not_yet_in_force() -> None:
    lines = show("OK", "--on", "2026-12-31")
    assert lines[1] == (
        "Oklahoma Data Privacy Act (ODPA, 75A O.S. 300-315 (SB 546)) takes effect on "
        "2027-01-01: not in force on 2026-12-31."
    )
    assert show("OK", "--on", "2027-01-01")[1].startswith("Law: Oklahoma Data Privacy Act")


def test_show_unknown_state_is_one_error() -> None:
    result = runner.invoke(app, ["rules", "show", "XX", "--policy", str(REFERENCE_POLICY)])
    assert result.exit_code == 1
    assert isinstance(result.exception, InvalidInput)
    assert result.exception.message == (
        "unknown US state code 'XX' (use a two-letter code such as CA)"
    )


def test_show_unknown_state_from_the_shell() -> None:
    result = subprocess.run(
        [str(PRIVACYOPS), "rules", "show", "XX"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "privacyops: error: unknown US state code 'XX' (use a two-letter code such as CA)\n"
    )
    assert result.stdout == ""


def test_show_bad_date_and_bad_policy(tmp_path: Path) -> None:
    bad_day = runner.invoke(app, ["rules", "show", "CA", "--on", "yesterday"])
    assert bad_day.exit_code == 1
    assert isinstance(bad_day.exception, InvalidInput)
    assert bad_day.exception.message == "--on: 'yesterday' is not a date (use YYYY-MM-DD)"
    missing = tmp_path / "nope.yaml"
    bad_policy = runner.invoke(app, ["rules", "show", "CA", "--policy", str(missing)])
    assert bad_policy.exit_code == 1
    assert isinstance(bad_policy.exception, PrivacyOpsError)
    assert bad_policy.exception.message == (
        f"{missing}: 1 error(s) in the policy; see `privacyops policy check {missing}`"
    )


def test_list() -> None:
    result = runner.invoke(app, ["rules", "list", "--on", "2026-12-31"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 24
    assert lines[0] == (
        "NV  Nevada law on the sale of covered information [not comprehensive]  "
        "effective 2019-10-01  in force"
    )
    assert "KY  Kentucky Consumer Data Protection Act  effective 2026-01-01  in force" in lines
    assert "OK  Oklahoma Data Privacy Act  effective 2027-01-01  not yet in force" in lines
    assert lines[-1] == (
        "AL  Alabama Personal Data Protection Act  effective 2027-05-01  not yet in force"
    )
