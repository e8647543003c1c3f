from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from privacyops.models.policy import PolicyVersion
from tests.dsr.support import publish_example


@pytest.fixture
def policy(db: Session) -> PolicyVersion:
    version = publish_example(db)
    db.commit()
    return version
