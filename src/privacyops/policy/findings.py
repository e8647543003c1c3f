"""A finding about a manifest: where (a path into the document), what, and how serious."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from privacyops.policy.yamlsource import Path


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str
    severity: Literal["error", "warning"] = "error"
