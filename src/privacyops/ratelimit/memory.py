"""In-process limiter for the embedded default (one process): a sliding window log per key."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from privacyops.ratelimit.port import Decision
from privacyops.ratelimit.rules import Rule, parse_rule

Clock = Callable[[], float]


class MemoryRateLimiter:
    """Exact sliding window: at most COUNT allowed hits in any PERIOD.

    Keeps the times of the allowed hits (at most COUNT per key); keys whose window has passed
    are swept now and then, so a stream of one-off clients does not grow memory for ever.
    """

    SWEEP_EVERY = 1000

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._since_sweep = 0

    def hit(self, key: str, rule: str) -> Decision:
        parsed = parse_rule(rule)
        with self._lock:
            now = self._clock()
            self._maybe_sweep(now)
            hits = self._hits.setdefault((parsed.text, key), deque())
            _expire(hits, now, parsed)
            if len(hits) >= parsed.count:
                wait = hits[0] + parsed.seconds - now
                return Decision(allowed=False, remaining=0, retry_after=max(1, math.ceil(wait)))
            hits.append(now)
            return Decision(allowed=True, remaining=parsed.count - len(hits), retry_after=0)

    def _maybe_sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        for name in list(self._hits):
            hits = self._hits[name]
            _expire(hits, now, parse_rule(name[0]))
            if not hits:
                del self._hits[name]


def _expire(hits: deque[float], now: float, rule: Rule) -> None:
    # The window is (now - PERIOD, now]: a hit exactly PERIOD ago has left it.
    while hits and hits[0] <= now - rule.seconds:
        hits.popleft()
