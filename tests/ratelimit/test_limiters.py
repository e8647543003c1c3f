"""One conformance suite for every limiter backend (memory, and a real Redis at 127.0.0.1:6379).

Time is injected, so windows pass without sleeping.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from privacyops.ratelimit import (
    Decision,
    MemoryRateLimiter,
    NullRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    get_limiter,
    parse_rule,
)
from privacyops.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    limiter: RateLimiter
    clock: FakeClock


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"privacyops:test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    clock = FakeClock()
    if request.param == "memory":
        return Backend(MemoryRateLimiter(clock=clock), clock)
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    return Backend(RedisRateLimiter(client, prefix=prefix, clock=clock), clock)


def hits(limiter: RateLimiter, key: str, rule: str, times: int) -> list[Decision]:
    return [limiter.hit(key, rule) for _ in range(times)]


def test_allows_exactly_count_then_refuses(backend: Backend) -> None:
    decisions = hits(backend.limiter, "login:10.0.0.1", "3/minute", 4)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after == 60
    assert all(d.retry_after == 0 for d in decisions[:3])


def test_retry_after_counts_down(backend: Backend) -> None:
    hits(backend.limiter, "k", "2/minute", 2)
    backend.clock.advance(45.5)
    refused = backend.limiter.hit("k", "2/minute")
    assert (refused.allowed, refused.retry_after) == (False, 15)


def test_keys_and_rules_are_independent(backend: Backend) -> None:
    hits(backend.limiter, "login:a", "1/minute", 1)
    assert not backend.limiter.hit("login:a", "1/minute").allowed
    assert backend.limiter.hit("login:b", "1/minute").allowed
    assert backend.limiter.hit("login:a", "5/minute").allowed


def test_window_resets(backend: Backend) -> None:
    hits(backend.limiter, "k", "2/second", 2)
    assert not backend.limiter.hit("k", "2/second").allowed
    backend.clock.advance(1)
    again = hits(backend.limiter, "k", "2/second", 3)
    assert [d.allowed for d in again] == [True, True, False]


def test_window_slides(backend: Backend) -> None:
    """At most COUNT in ANY period: no double burst across a fixed window's edge."""
    backend.limiter.hit("k", "3/minute")
    backend.clock.advance(30)
    hits(backend.limiter, "k", "3/minute", 2)
    backend.clock.advance(29)
    assert not backend.limiter.hit("k", "3/minute").allowed
    backend.clock.advance(1)  # the first hit is now a full minute old
    assert [d.allowed for d in hits(backend.limiter, "k", "3/minute", 2)] == [True, False]


def test_refused_hits_are_not_counted(backend: Backend) -> None:
    hits(backend.limiter, "k", "1/minute", 5)
    backend.clock.advance(60)
    assert backend.limiter.hit("k", "1/minute").allowed


def test_concurrent_hits_never_exceed_the_count(backend: Backend) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(20):
            decision = backend.limiter.hit("shared", "50/hour")
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 50
    assert len(allowed) == 160


@pytest.mark.parametrize("rule", ["10/fortnight", "ten/minute", "0/minute", "10", "", "10/"])
def test_bad_rule_names_the_value(backend: Backend, rule: str) -> None:
    with pytest.raises(ValueError, match="invalid rate limit") as error:
        backend.limiter.hit("k", rule)
    assert repr(rule) in str(error.value)


# --- rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [
        ("10/minute", 10, 60),
        ("60/minute", 60, 60),
        ("5/second", 5, 1),
        ("100/hour", 100, 3600),
        ("1000/day", 1000, 86400),
        (" 3 / Minutes ", 3, 60),
    ],
)
def test_rules_parse(text: str, count: int, seconds: int) -> None:
    rule = parse_rule(text)
    assert (rule.count, rule.seconds) == (count, seconds)


# --- backend specifics --------------------------------------------------------------------------


def test_redis_keys_expire_and_hide_the_callers_key(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix=redis_prefix)
    limiter.hit("login:alice@example.com", "5/minute")
    keys = [k.decode() for k in redis_client.scan_iter(f"{redis_prefix}*")]
    assert keys == [limiter.redis_key("login:alice@example.com", "5/minute")]
    assert "alice" not in keys[0]
    assert 0 < redis_client.pttl(keys[0]) <= 60_000


def test_redis_uses_its_own_clock_by_default(redis_client: redis.Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, prefix=redis_prefix)
    assert limiter.hit("k", "1/minute").allowed
    refused = limiter.hit("k", "1/minute")
    assert not refused.allowed
    assert 59 <= refused.retry_after <= 60


def test_redis_down_allows_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING, logger="privacyops.ratelimit"):
        decision = limiter.hit("login:10.0.0.1", "10/minute")
    assert decision == Decision(allowed=True, remaining=10, retry_after=0)
    assert "rate limiter unavailable" in caplog.text
    assert "10.0.0.1" not in caplog.text


def test_memory_forgets_idle_keys() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    for n in range(MemoryRateLimiter.SWEEP_EVERY - 1):
        limiter.hit(f"client:{n}", "1/minute")
    clock.advance(61)
    limiter.hit("late", "1/minute")
    assert len(limiter._hits) == 1


def test_null_limiter_always_allows() -> None:
    limiter = NullRateLimiter()
    assert all(d.allowed for d in hits(limiter, "k", "1/minute", 5))
    with pytest.raises(ValueError, match="invalid rate limit"):
        limiter.hit("k", "often")


# --- factory ------------------------------------------------------------------------------------


def test_memory_limiter_is_one_per_settings_object(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    limiter = get_limiter(settings)
    assert isinstance(limiter, MemoryRateLimiter)
    assert get_limiter(settings) is limiter
    assert get_limiter(Settings(data_dir=tmp_path)) is not limiter


def test_redis_backend_from_settings(tmp_path: Path, redis_client: redis.Redis) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit_backend="redis", redis_url=REDIS_URL)
    limiter = get_limiter(settings)
    assert isinstance(limiter, RedisRateLimiter)
    key = f"login:{uuid.uuid4().hex}"
    try:
        assert limiter.hit(key, settings.rate_limit_login).remaining == 9
    finally:
        redis_client.delete(limiter.redis_key(key, settings.rate_limit_login))
