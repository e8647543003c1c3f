"""Time a piece of work against a baseline measured in the same run, and print the ratio.

Absolute times depend on the machine; the ratio to a baseline doing comparable work on the same
machine, at the same moment, is what we track.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    baseline_name: str
    seconds: float
    baseline_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else float("inf")

    def line(self) -> str:
        return (
            f"{self.name:<44} {self.ratio:7.2f}x  {self.baseline_name}"
            f"  ({self.seconds * 1e3:.3f} ms vs {self.baseline_seconds * 1e3:.3f} ms per op)"
        )


def per_op(work: Callable[[], object], repeat: int = 7, number: int = 20) -> float:
    """Median seconds per call over `repeat` rounds of `number` calls, after one warm-up."""
    work()
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def compare(
    name: str,
    work: Callable[[], object],
    baseline_name: str,
    baseline: Callable[[], object],
    number: int = 20,
) -> Result:
    # Interleave so that both see the same machine state.
    base_first = per_op(baseline, number=number)
    work_time = per_op(work, number=number)
    base_second = per_op(baseline, number=number)
    return Result(name, baseline_name, work_time, min(base_first, base_second))
