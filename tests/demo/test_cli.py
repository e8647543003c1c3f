"""`privacyops demo create`, as registered under `privacyops demo`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from privacyops.demo.cli import demo_app
from privacyops.demo.shop import ShopNotEmpty
from privacyops.settings import get_settings
from tests.demo.test_shop import dump
from tests.vault.support import scratch_database

runner = CliRunner()
cli = typer.Typer()
cli.add_typer(demo_app, name="demo")


@pytest.fixture
def shop_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "cli") as url:
        yield url


def test_create_refuse_and_reset(shop_url: str) -> None:
    result = runner.invoke(cli, ["demo", "create", "--customers", "25", "--url", shop_url])
    assert result.exit_code == 0, result.output
    assert "demo shop ready" in result.output
    assert "ann.demo@example.com" in result.output
    assert "carla.demo@example.com" in result.output
    assert len(dump(shop_url)["customers"]) == 25

    again = runner.invoke(cli, ["demo", "create", "--url", shop_url, "--seed", "5"])
    assert isinstance(again.exception, ShopNotEmpty)
    assert len(dump(shop_url)["customers"]) == 25

    reset = ["demo", "create", "--customers", "12", "--url", shop_url, "--reset"]
    assert runner.invoke(cli, reset).exit_code == 0
    assert len(dump(shop_url)["customers"]) == 12


def test_default_database_is_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVACYOPS_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["demo", "create", "--customers", "5"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "demo-shop.db").exists()
    assert "demo-shop.db" in result.output


def test_too_few_customers_is_a_usage_error() -> None:
    result = runner.invoke(cli, ["demo", "create", "--customers", "1"])
    assert result.exit_code == 2
