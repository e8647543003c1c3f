from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.staff.helpers import FakeLimiter, use_fast_hashing


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def limiter(app: FastAPI) -> FakeLimiter:
    fake = FakeLimiter()
    app.state.login_limiter = fake
    return fake
