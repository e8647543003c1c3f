"""`privacyops policy show | versions | diff | publish` against the test database."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from privacyops.cli import app, main
from privacyops.errors import InvalidInput, NotFound
from privacyops.policy.service import PublishRefused
from privacyops.settings import Settings
from tests.policy.test_diff import AD_PARTNER, FIXTURE, base_data

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("use_test_database")


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def material_file(tmp_path: Path) -> Path:
    data = base_data()
    data["recipients"].append(AD_PARTNER)
    return write(tmp_path, "material.yaml", data)


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["policy", *args])


def publish_first() -> None:
    result = invoke("publish", str(FIXTURE), "--effective", "2026-01-15", "--by", "alice")
    assert result.exit_code == 0, result.output
    assert result.stdout == "published version 1, effective on 2026-01-15 (first version)\n"


def test_publish_then_show(tmp_path: Path) -> None:
    publish_first()
    result = invoke("show")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Example Shop Privacy Policy",
        "version 1 (in force), effective on 2026-01-15, last updated 2026-01-15",
        "2 data categories, 2 purposes, 1 recipient, 1 state with named rights",
    ]


def test_show_json_prints_the_manifest() -> None:
    publish_first()
    result = invoke("show", "--version", "1", "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["title"] == "Example Shop Privacy Policy"
    assert manifest["cookies"]["classes"][0]["class"] == "essential"


def test_show_without_a_version_is_one_clear_error() -> None:
    result = invoke("show")
    assert result.exit_code == 1
    assert isinstance(result.exception, NotFound)
    assert str(result.exception) == f"no policy version is in force on {date.today()}"


def test_material_change_scheduled_then_listed(tmp_path: Path) -> None:
    publish_first()
    earliest = date.today() + timedelta(days=30)
    result = invoke(
        "publish", str(material_file(tmp_path)), "--effective", str(earliest), "--by", "bob"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"published version 2, effective on {earliest}: material change (1 of 1 changes material)\n"
    )
    versions = invoke("versions")
    assert versions.exit_code == 0, versions.output
    lines = versions.stdout.splitlines()
    assert lines[0] == "version  effective   status      material  published"
    assert lines[1].startswith(f"      2  {earliest}  scheduled   yes       ")
    assert lines[1].endswith(" UTC by bob")
    assert lines[2].startswith("      1  2026-01-15  in force    no        ")
    show = invoke("show")
    assert show.stdout.splitlines()[-1] == (
        f"announced: version 2 brings a material change on {earliest}"
    )


def test_material_change_too_early_is_refused(tmp_path: Path) -> None:
    publish_first()
    today = date.today()
    result = invoke("publish", str(material_file(tmp_path)), "--effective", str(today))
    assert result.exit_code == 1
    assert isinstance(result.exception, PublishRefused)
    earliest = today + timedelta(days=30)
    assert str(result.exception) == (
        f"material change: it may take effect on {earliest} at the earliest "
        f"(30 days' notice, policy section 13); effective date given: {today}"
    )
    assert "version 2" not in invoke("versions").stdout


def test_refusal_is_one_line_from_the_real_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_first()
    capsys.readouterr()
    today = date.today()
    argv = ["privacyops", "policy", "publish", str(material_file(tmp_path)), "--effective"]
    monkeypatch.setattr(sys, "argv", [*argv, str(today), "--by", "bob"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    *warnings, last = capsys.readouterr().err.splitlines()
    assert last == (
        f"privacyops: error: material change: it may take effect on "
        f"{today + timedelta(days=30)} at the earliest (30 days' notice, policy section 13); "
        f"effective date given: {today}"
    )
    # The law check's warnings come first; they do not block publishing.
    assert all(line.endswith("[warning]") for line in warnings)


def test_republishing_the_same_file_is_a_no_op() -> None:
    publish_first()
    result = invoke("publish", str(FIXTURE), "--effective", str(date.today()))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "no change: identical to version 1 (effective on 2026-01-15); nothing published\n"
    )


def test_publishing_an_invalid_file_prints_its_problems(tmp_path: Path) -> None:
    data = base_data()
    data["children"]["age_threshold"] = 0
    path = write(tmp_path, "bad.yaml", data)
    result = invoke("publish", str(path), "--effective", "2026-01-15")
    assert result.exit_code == 1
    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == f"{path}: 1 error(s); nothing published"
    assert result.stderr == (
        f"{path}:140: children.age_threshold: Input should be greater than or equal to 1 [error]\n"
    )
    assert "no policy version published yet" in invoke("versions").stdout


@pytest.mark.parametrize("bad", ["2026-02-30", "tomorrow", "15/01/2026"])
def test_publish_refuses_a_malformed_date(bad: str) -> None:
    result = invoke("publish", str(FIXTURE), "--effective", bad)
    assert result.exit_code == 2
    assert "Invalid value for '--effective'" in result.output


def test_diff_between_files(tmp_path: Path) -> None:
    data = base_data()
    data["title"] = "Example Shop Privacy Notice"
    data["retention"]["schedule"][0]["period"] = "P5Y"
    new = write(tmp_path, "new.yaml", data)
    result = invoke("diff", str(FIXTURE), str(new))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "minor     title changed from 'Example Shop Privacy Policy' to "
        "'Example Shop Privacy Notice'",
        "MATERIAL  retention of 'contact' lengthened from 3 years (P3Y) to 5 years (P5Y) "
        "(personal information is kept longer)",
        "2 change(s), 1 material",
    ]


def test_diff_between_a_version_and_a_file(tmp_path: Path) -> None:
    publish_first()
    for old in ("v1", "1"):
        result = invoke("diff", old, str(material_file(tmp_path)))
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "MATERIAL  new recipient 'ad_partner' (Advertising partner) "
            "(personal information goes to more recipients)",
            "1 change(s), 1 material",
        ]


def test_diff_of_identical_content() -> None:
    publish_first()
    result = invoke("diff", "v1", str(FIXTURE))
    assert (result.exit_code, result.stdout) == (0, "no changes\n")


def test_diff_with_an_invalid_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [unclosed\n", encoding="utf-8")
    result = invoke("diff", str(FIXTURE), str(bad))
    assert result.exit_code == 1
    assert str(result.exception) == f"{bad}: 1 error(s); fix them with `policy check`"
    assert str(bad) in result.stderr


def test_diff_with_a_missing_version_exits_1() -> None:
    result = invoke("diff", "v4", str(FIXTURE))
    assert result.exit_code == 1
    assert str(result.exception) == "policy version 4 does not exist"


@pytest.mark.parametrize("command", ["show", "versions", "diff", "publish", "check"])
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_settings_come_from_the_test_fixture(use_test_database: Settings) -> None:
    # Guards the fixture contract the commands above rely on.
    assert use_test_database.database_url
