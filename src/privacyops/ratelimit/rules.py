"""Rules as written in settings: "COUNT/PERIOD", such as `10/minute` or `1000/day`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: int
    text: str


@lru_cache(maxsize=64)
def parse_rule(text: str) -> Rule:
    """Parse "COUNT/PERIOD"; a bad value raises ValueError that quotes it."""
    match = _RULE.match(text.lower())
    if match is None or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ValueError(
            f"invalid rate limit {text!r}: expected COUNT/PERIOD with COUNT at least 1 and "
            f"PERIOD one of {', '.join(PERIODS)} (for example 10/minute)"
        )
    count, period = int(match.group(1)), match.group(2)
    return Rule(count=count, seconds=PERIODS[period], text=f"{count}/{period}")
