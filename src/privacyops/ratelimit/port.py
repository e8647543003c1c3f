"""The limiter port: one method, so that the backends are interchangeable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    """Whether this hit is allowed, how many more the window allows, and when to come back.

    `retry_after` is whole seconds (0 when allowed), fit for a `Retry-After` header.
    """

    allowed: bool
    remaining: int
    retry_after: int


class RateLimiter(Protocol):
    def hit(self, key: str, rule: str) -> Decision:
        """Count one attempt by `key` under `rule` ("COUNT/PERIOD") and decide on it.

        Refused attempts are not counted, so a client that keeps hammering gets in again
        once its earlier attempts leave the window.
        """
        ...
