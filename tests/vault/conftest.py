from __future__ import annotations

from collections.abc import Iterator

import pytest

from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.vault.support import make_vault


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    with make_vault(settings) as instance:
        yield instance
