"""A limiter that allows everything: for tests and tools that do not exercise limits."""

from __future__ import annotations

from privacyops.ratelimit.port import Decision
from privacyops.ratelimit.rules import parse_rule


class NullRateLimiter:
    def hit(self, key: str, rule: str) -> Decision:
        parsed = parse_rule(rule)  # a bad rule fails here too, not only in production
        return Decision(allowed=True, remaining=parsed.count, retry_after=0)
