"""`privacyops policy check FILE`: exit 0 when valid, 1 with every problem on stderr, never a
traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from privacyops.cli import app

FIXTURE = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"
PRIVACYOPS = Path(sys.executable).parent / "privacyops"
runner = CliRunner()


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRIVACYOPS), "policy", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_valid_file(tmp_path: Path) -> None:
    result = run_check(FIXTURE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{FIXTURE}: valid (")
    assert "[error]" not in result.stderr
    assert "Traceback" not in result.stderr


def test_faulty_file_reports_every_problem(tmp_path: Path) -> None:
    faulty = tmp_path / "policy.yaml"
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace("period: P3Y", "period: 3 years")
    text = text.replace("[contact]\n    requires_consent", "[contacts]\n    requires_consent")
    faulty.write_text(text, encoding="utf-8")
    result = run_check(faulty)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.endswith("[error]")]
    assert errors == [
        f"{faulty}:50: purposes[1].data_categories[0]: purpose 'email_marketing' uses category "
        "'contacts', which the policy does not declare (in data_categories) [error]",
        f"{faulty}:117: retention.schedule[0].period: '3 years' is not an ISO 8601 duration of "
        "years, months, weeks or days (for example P3Y, P18M or P30D) [error]",
    ]
    assert result.stderr.splitlines()[-1].startswith(f"{faulty}: 2 error(s), ")
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def check_with_runner(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert check_with_runner(missing) == (
        1,
        f"{missing}: (file): file not found [error]\n{missing}: 1 error(s), 0 warning(s)\n",
    )


def test_directory(tmp_path: Path) -> None:
    assert check_with_runner(tmp_path) == (
        1,
        f"{tmp_path}: (file): is a directory, not a manifest file [error]\n"
        f"{tmp_path}: 1 error(s), 0 warning(s)\n",
    )


def test_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert check_with_runner(binary) == (
        1,
        f"{binary}: (file): is not UTF-8 text [error]\n{binary}: 1 error(s), 0 warning(s)\n",
    )


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert check_with_runner(empty) == (
        1,
        f"{empty}: (document): the file is empty: a policy manifest is a YAML mapping [error]\n"
        f"{empty}: 1 error(s), 0 warning(s)\n",
    )


def test_help() -> None:
    result = runner.invoke(app, ["policy", "check", "--help"])
    assert result.exit_code == 0
    assert "Report every problem in FILE at once" in result.output
