"""ISO 8601 durations as retention periods use them: years, months, weeks, days (P3Y, P18M)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$"
)


@dataclass(frozen=True, order=True)
class Duration:
    """A calendar duration; ordered by its length in days so that periods can be compared."""

    approx_days: float
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def __str__(self) -> str:
        parts = [
            f"{n}{unit}"
            for n, unit in (
                (self.years, "Y"),
                (self.months, "M"),
                (self.weeks, "W"),
                (self.days, "D"),
            )
            if n
        ]
        return "P" + ("".join(parts) or "0D")

    def describe(self) -> str:
        """Plain English, for the policy page: `3 years`, `18 months`, `30 days`."""
        parts = []
        for n, word in (
            (self.years, "year"),
            (self.months, "month"),
            (self.weeks, "week"),
            (self.days, "day"),
        ):
            if n:
                parts.append(f"{n} {word}{'' if n == 1 else 's'}")
        return ", ".join(parts) or "0 days"


def parse_duration(text: str) -> Duration:
    """Parse `P3Y`, `P18M`, `P2Y6M`, `P30D`. Time parts (PT1H) are refused: retention is in days."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration of years, months, weeks or days "
            "(for example P3Y, P18M or P30D)"
        )
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    approx = (
        parts["years"] * 365.25 + parts["months"] * 30.4375 + parts["weeks"] * 7 + parts["days"]
    )
    return Duration(approx_days=approx, **parts)
