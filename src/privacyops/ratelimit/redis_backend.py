"""Shared limiter for several processes: the same sliding window, kept in Redis."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Callable
from typing import Any

import redis

from privacyops.ratelimit.port import Decision
from privacyops.ratelimit.rules import parse_rule

log = logging.getLogger(__name__)

KEY_PREFIX = "privacyops:rl:"

# One round trip, atomic: drop hits that left the window, count, add this one if allowed.
# Times are milliseconds; ARGV[1] empty means "use the Redis server's clock", which every
# process shares (tests pass their own time instead of sleeping).
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - used - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""


class RedisRateLimiter:
    """Sliding window log in a sorted set per key, expiring with its window.

    The Redis key is a hash of the caller's key, so client addresses or account names never
    sit in Redis in clear. If Redis cannot be reached the hit is ALLOWED and a warning logged:
    rate limits are a second line (account lockout in the database is the first), and an
    outage of Redis should not lock every staff member out of the console.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = KEY_PREFIX,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._script: Any = client.register_script(_SLIDING_WINDOW)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2))

    def redis_key(self, key: str, rule: str) -> str:
        digest = hashlib.sha256(f"{parse_rule(rule).text}\0{key}".encode()).hexdigest()[:32]
        return f"{self._prefix}{digest}"

    def hit(self, key: str, rule: str) -> Decision:
        parsed = parse_rule(rule)
        now = "" if self._clock is None else str(int(self._clock() * 1000))
        args = [now, parsed.seconds * 1000, parsed.count, secrets.token_hex(8)]
        try:
            allowed, remaining, wait_ms = self._script(keys=[self.redis_key(key, rule)], args=args)
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, allowing: %s", type(exc).__name__)
            return Decision(allowed=True, remaining=parsed.count, retry_after=0)
        if allowed:
            return Decision(allowed=True, remaining=int(remaining), retry_after=0)
        return Decision(allowed=False, remaining=0, retry_after=max(1, math.ceil(wait_ms / 1000)))
