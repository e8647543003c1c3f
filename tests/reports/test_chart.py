"""The chart's axis and bars: a linear scale from zero, a round step, one bar per figure."""

from __future__ import annotations

import pytest

from privacyops.reports.chart import BOTTOM, TOP, metrics_chart, nice_step
from privacyops.reports.schemas import KIND_LABELS, KindMetrics, Metrics, ReportKind, Scope


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1), (1, 1), (5, 1), (6, 2), (10, 2), (11, 5), (25, 5), (26, 10), (51, 20), (99, 20),
     (101, 50), (12_345, 5_000)],
)  # fmt: skip
def test_nice_step(maximum: int, step: int) -> None:
    assert nice_step(maximum) == step


def metrics(received: int, complied: int, denied: int) -> Metrics:
    kinds = [
        KindMetrics(
            kind=kind,
            label=KIND_LABELS[kind],
            received=received,
            complied=complied,
            denied=denied,
            denied_not_verifiable=denied,
            denied_not_by_consumer=0,
            denied_exempt=0,
            denied_other=0,
            responses_timed=complied + denied,
            median_days=None,
            mean_days=None,
        )
        for kind in ReportKind
    ]
    return Metrics(
        year=2025, scope=Scope.all, scope_label="everyone", year_complete=True, kinds=kinds
    )


def test_bars_scale_to_the_rounded_top_of_the_axis() -> None:
    chart = metrics_chart(metrics(received=120, complied=90, denied=30))

    assert len(chart.bars) == 15
    assert [t.value for t in chart.ticks] == [0, 50, 100, 150]
    tallest = chart.bars[0]
    assert tallest.height == round(120 / 150 * (BOTTOM - TOP), 1)
    assert tallest.y + tallest.height == BOTTOM
    assert [b.series.key for b in chart.bars[:3]] == ["received", "complied", "denied"]
    # Bars of one group do not overlap, and groups stay in order.
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs)
    assert all(b.x + b.width <= c.x for b, c in zip(chart.bars, chart.bars[1:], strict=False))


def test_an_empty_year_draws_flat_bars_on_a_unit_axis() -> None:
    chart = metrics_chart(metrics(0, 0, 0))

    assert {b.height for b in chart.bars} == {0.0}
    assert [t.value for t in chart.ticks] == [0, 1]
    assert chart.groups[0].days == ("no responses",)
    assert "none answered yet" in chart.description
