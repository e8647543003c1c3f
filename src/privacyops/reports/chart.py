"""The geometry of the metrics chart, drawn by the template as inline SVG.

Computed here, on the server: the console's Content-Security-Policy allows no script and no
inline style, so the chart is plain SVG elements with presentation attributes. The template
gives it a <title> and a <desc> that says every figure in words; the table beside it is the
full text alternative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from privacyops.reports.schemas import KIND_SHORT, Metrics

WIDTH, HEIGHT = 800, 390
LEFT, RIGHT, TOP, BOTTOM = 56, 784, 56, 300
BAR_WIDTH, BAR_GAP = 28, 4
TARGET_TICKS = 5


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    fill: str


SERIES = (
    Series("received", "Received", "#2f5d9e"),
    Series("complied", "Complied with in whole or in part", "#1e7b34"),
    Series("denied", "Denied", "#b00020"),
)


@dataclass(frozen=True)
class Bar:
    series: Series
    x: float
    y: float
    width: float
    height: float
    value: int
    title: str

    @property
    def label_x(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class Group:
    x: float
    label: str
    days: tuple[str, ...]


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    title: str
    description: str
    bars: list[Bar]
    groups: list[Group]
    ticks: list[Tick]
    series: tuple[Series, ...]


def nice_step(maximum: int) -> int:
    """The smallest step of 1, 2 or 5 times a power of ten that reaches `maximum` in at most
    TARGET_TICKS steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if maximum <= factor * magnitude * TARGET_TICKS:
                return factor * magnitude
        magnitude *= 10


def _days_text(median: float | None, mean: float | None) -> tuple[str, ...]:
    if median is None or mean is None:
        return ("no responses",)
    return (f"median {median:.1f} days", f"mean {mean:.1f} days")


def metrics_chart(metrics: Metrics) -> Chart:
    """Grouped bars (received, complied, denied) per kind, on one linear axis from zero."""
    values = [(k.received, k.complied, k.denied) for k in metrics.kinds]
    step = nice_step(max((v for trio in values for v in trio), default=0))
    top_value = max(step, math.ceil(max((max(t) for t in values), default=0) / step) * step)
    scale = (BOTTOM - TOP) / top_value
    group_width = (RIGHT - LEFT) / len(metrics.kinds)
    cluster = len(SERIES) * BAR_WIDTH + (len(SERIES) - 1) * BAR_GAP

    bars, groups = [], []
    for index, (kind, trio) in enumerate(zip(metrics.kinds, values, strict=True)):
        center = LEFT + group_width * (index + 0.5)
        start = center - cluster / 2
        for offset, (series, value) in enumerate(zip(SERIES, trio, strict=True)):
            height = round(value * scale, 1)
            bars.append(
                Bar(
                    series=series,
                    x=round(start + offset * (BAR_WIDTH + BAR_GAP), 1),
                    y=round(BOTTOM - height, 1),
                    width=BAR_WIDTH,
                    height=height,
                    value=value,
                    title=f"{kind.label}: {value} {series.label.lower()}",
                )
            )
        groups.append(
            Group(
                x=round(center, 1),
                label=KIND_SHORT[kind.kind],
                days=_days_text(kind.median_days, kind.mean_days),
            )
        )
    ticks = [Tick(y=round(BOTTOM - v * scale, 1), value=v) for v in range(0, top_value + 1, step)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        top=TOP,
        bottom=BOTTOM,
        title=f"Requests received, complied with and denied in {metrics.year}, by kind",
        description=_description(metrics),
        bars=bars,
        groups=groups,
        ticks=ticks,
        series=SERIES,
    )


def _description(metrics: Metrics) -> str:
    parts = []
    for k in metrics.kinds:
        days = (
            f"median {k.median_days:.1f} days, mean {k.mean_days:.1f} days to respond"
            if k.median_days is not None and k.mean_days is not None
            else "none answered yet"
        )
        parts.append(
            f"{k.label}: {k.received} received, {k.complied} complied with in whole or in "
            f"part, {k.denied} denied; {days}."
        )
    return f"Grouped bar chart, {metrics.scope_label}. " + " ".join(parts)
