"""Shared by the consent tests: the example policy published (its purposes, partners and
cookie classes are what consent is checked against), and staff passwords hashed fast."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from privacyops.models.policy import PolicyVersion
from tests.dsr.support import publish_example
from tests.staff.helpers import use_fast_hashing


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def policy(db: Session) -> PolicyVersion:
    version = publish_example(db)
    db.commit()
    return version
