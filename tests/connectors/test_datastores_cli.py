"""`privacyops setup` connects the demo shop; `privacyops datastores ...` and `holds ...` as a
user runs them: a real process, errors naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run_cli

BROKEN = """dataset:
  - fides_key: crm
    fides_meta: {location: united_states}
    collections:
      - name: contacts
        fields:
          - name: email
            data_categories: [user.contact.emial]
            fides_meta: {identity: email}
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("install")
    done = run_cli("setup", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "demo shop connected as datastore 'demo-shop'" in done.stdout
    return data_dir


def test_setup_creates_and_connects_the_demo_shop_once(installed: Path) -> None:
    assert (installed / "demo-shop.db").is_file()

    again = run_cli("setup", data_dir=installed)

    assert again.returncode == 0, again.stderr
    assert "already connected (demo-shop)" in again.stdout


def test_datastores_list_and_test(installed: Path) -> None:
    listed = run_cli("datastores", "list", data_dir=installed)
    reached = run_cli("datastores", "test", "demo-shop", data_dir=installed)

    assert "demo-shop  sql  Demo retail shop: shop" in listed.stdout
    assert "demo-shop.db" not in listed.stdout  # the URL is a vault secret, never shown
    assert reached.returncode == 0, reached.stderr
    assert "reachable" in reached.stdout


def test_a_datastore_that_cannot_be_reached_is_one_line(installed: Path) -> None:
    declarations = installed / "crm.yaml"
    declarations.write_text(BROKEN.replace("emial", "email"), encoding="utf-8")
    added = run_cli(
        "datastores",
        "add",
        "crm",
        "--declarations",
        str(declarations),
        "--url",
        "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/crm",
        data_dir=installed,
    )
    reached = run_cli("datastores", "test", "crm", data_dir=installed)

    assert added.returncode == 0, added.stderr
    assert reached.returncode == 1
    assert "crm: connect failed" in reached.stderr
    assert "s3cret" not in reached.stderr + reached.stdout
    assert "Traceback" not in reached.stderr


def test_bad_declarations_are_refused_with_file_line_and_field(installed: Path) -> None:
    declarations = installed / "broken.yaml"
    declarations.write_text(BROKEN, encoding="utf-8")

    added = run_cli(
        "datastores",
        "add",
        "broken",
        "--declarations",
        str(declarations),
        "--url",
        "sqlite:///nowhere.db",
        data_dir=installed,
    )
    listed = run_cli("datastores", "list", data_dir=installed)

    assert added.returncode == 1
    assert f"{declarations}:8: dataset[0].collections[0].fields[0].data_categories[0]" in (
        added.stderr
    )
    assert "broken" not in listed.stdout


def test_legal_holds_from_the_cli(installed: Path) -> None:
    unknown = run_cli(
        "holds", "place", "--email", "nobody@example.com", "--reason", "x", data_dir=installed
    )
    empty = run_cli("holds", "list", data_dir=installed)

    assert unknown.returncode == 1
    assert "no data subject with this email address" in unknown.stderr
    assert "no active legal hold" in empty.stdout
