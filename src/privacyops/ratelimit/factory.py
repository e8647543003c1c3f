"""Choose the limiter from settings: one per process and settings object, so counts persist."""

from __future__ import annotations

import threading
import weakref

from privacyops.ratelimit.memory import MemoryRateLimiter
from privacyops.ratelimit.port import RateLimiter
from privacyops.ratelimit.redis_backend import RedisRateLimiter
from privacyops.settings import Settings

_lock = threading.Lock()
# Keyed by id(settings): Settings objects are not hashable. The entry leaves with its settings.
_limiters: dict[int, RateLimiter] = {}


def get_limiter(settings: Settings) -> RateLimiter:
    key = id(settings)
    with _lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _build(settings)
            _limiters[key] = limiter
            weakref.finalize(settings, _limiters.pop, key, None)
        return limiter


def _build(settings: Settings) -> RateLimiter:
    if settings.rate_limit_backend == "redis":
        return RedisRateLimiter.from_url(settings.redis_url)
    return MemoryRateLimiter()
