"""Rate limits: how many times a key (a client, an account) may do something per period.

Callers hit a limiter and act on the decision:

    decision = get_limiter(settings).hit(f"login:{client}", settings.rate_limit_login)
    if not decision.allowed: ...answer 429 with Retry-After: decision.retry_after
"""

from privacyops.ratelimit.factory import get_limiter
from privacyops.ratelimit.memory import MemoryRateLimiter
from privacyops.ratelimit.null import NullRateLimiter
from privacyops.ratelimit.port import Decision, RateLimiter
from privacyops.ratelimit.redis_backend import RedisRateLimiter
from privacyops.ratelimit.rules import Rule, parse_rule

__all__ = [
    "Decision",
    "MemoryRateLimiter",
    "NullRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "Rule",
    "get_limiter",
    "parse_rule",
]
