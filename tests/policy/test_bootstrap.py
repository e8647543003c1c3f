"""First-run publishing of the default policy (`privacyops setup`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from privacyops.errors import InvalidInput
from privacyops.policy import repository
from privacyops.policy.bootstrap import publish_default_policy
from privacyops.settings import Settings
from tests.policy.test_diff import FIXTURE, base_data

TODAY = date(2026, 11, 27)


@pytest.fixture
def setup_settings(use_test_database: Settings) -> Settings:
    return use_test_database.model_copy(update={"default_policy_file": FIXTURE})


def test_publishes_the_default_policy_once(setup_settings: Settings, db: Session) -> None:
    message = publish_default_policy(setup_settings, TODAY)
    assert (
        message == f"published the default policy {FIXTURE} as version 1, effective on 2026-01-15"
    )
    version = repository.get_version(db, 1)
    assert version is not None
    assert (version.effective_on, version.published_by) == (date(2026, 1, 15), "setup")
    assert version.source_yaml == FIXTURE.read_text(encoding="utf-8")

    again = publish_default_policy(setup_settings, TODAY)
    assert again == "policy version 1 in force since 2026-01-15"
    assert repository.count_versions(db) == 1


def test_reports_a_version_not_yet_in_force(setup_settings: Settings) -> None:
    publish_default_policy(setup_settings, TODAY)
    assert publish_default_policy(setup_settings, date(2026, 1, 1)) == (
        "policy version 1 is published and takes effect on 2026-01-15"
    )


def test_invalid_default_policy_names_the_file(
    use_test_database: Settings, tmp_path: Path, db: Session
) -> None:
    data = base_data()
    data["organization"]["postal_address"]["region"] = "XX"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = use_test_database.model_copy(update={"default_policy_file": path})
    with pytest.raises(InvalidInput) as refused:
        publish_default_policy(settings, TODAY)
    assert refused.value.message == (
        f"default policy {path} has 1 error(s): {path}:11: organization.postal_address.region: "
        "unknown US state code 'XX' (use a two-letter code such as CA)"
    )
    assert repository.count_versions(db) == 0


def test_missing_default_policy_names_the_file(use_test_database: Settings, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    settings = use_test_database.model_copy(update={"default_policy_file": path})
    with pytest.raises(InvalidInput) as refused:
        publish_default_policy(settings, TODAY)
    assert refused.value.message == (
        f"default policy {path} has 1 error(s): {path}: (file): file not found"
    )
