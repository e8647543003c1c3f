"""The 7102 figures: counts per kind and outcome, denial grounds, median and mean days, year
boundaries in the requester's state, California-only scope, tallies of purged requests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from privacyops.dsr import jobs, workflow
from privacyops.dsr import service as dsr_service
from privacyops.errors import InvalidInput
from privacyops.models.policy import PolicyVersion
from privacyops.reports.schemas import KindMetrics, Metrics, ReportKind, Scope
from privacyops.reports.service import ccpa_metrics, parse_scope, parse_year
from privacyops.vault.service import Vault
from tests.dsr.support import LINKS, last_code, submit
from tests.reports.support import add_request, add_tally, add_year_2025, at

TODAY = date(2026, 6, 1)


def figures(k: KindMetrics) -> tuple[object, ...]:
    return (
        k.received,
        k.complied,
        k.denied,
        k.denied_not_verifiable,
        k.denied_not_by_consumer,
        k.denied_exempt,
        k.denied_other,
        k.responses_timed,
        k.median_days,
        k.mean_days,
    )


def table(metrics: Metrics) -> dict[str, tuple[object, ...]]:
    return {k.kind.value: figures(k) for k in metrics.kinds}


def test_every_figure_for_all_individuals(db: Session) -> None:
    add_year_2025(db)

    metrics = ccpa_metrics(db, 2025, today=TODAY)

    assert (metrics.year, metrics.scope, metrics.year_complete) == (2025, Scope.all, True)
    assert metrics.scope_label == "all individuals (not only California consumers)"
    assert [k.label for k in metrics.kinds] == [
        "Requests to delete",
        "Requests to correct",
        "Requests to know",
        "Requests to opt out of sale/sharing",
        "Requests to limit",
    ]
    # received, complied, denied, not verifiable, not by a consumer, exempt, other,
    # answered, median, mean
    assert table(metrics) == {
        "delete": (6, 2, 2, 1, 0, 1, 0, 4, 15.0, 19.5),
        "correct": (0, 0, 0, 0, 0, 0, 0, 0, None, None),
        "know": (3, 2, 1, 0, 1, 0, 0, 3, 2.0, 2.7),
        "opt_out": (3, 3, 0, 0, 0, 0, 0, 3, 2.0, 2.3),
        "limit": (1, 0, 1, 0, 0, 0, 1, 1, 0.0, 0.0),
    }


def test_california_only(db: Session) -> None:
    add_year_2025(db)

    metrics = ccpa_metrics(db, 2025, california_only=True, today=TODAY)

    assert metrics.scope is Scope.california
    assert metrics.scope_label == "California consumers only"
    assert table(metrics) == {
        "delete": (4, 2, 0, 0, 0, 0, 0, 2, 15.0, 15.0),
        "correct": (0, 0, 0, 0, 0, 0, 0, 0, None, None),
        "know": (1, 1, 0, 0, 0, 0, 0, 1, 5.0, 5.0),
        "opt_out": (2, 2, 0, 0, 0, 0, 0, 2, 1.5, 1.5),
        "limit": (1, 0, 1, 0, 0, 0, 1, 1, 0.0, 0.0),
    }


def test_other_years_see_only_their_own_requests(db: Session) -> None:
    add_year_2025(db)

    assert ccpa_metrics(db, 2024, today=TODAY).kind(ReportKind.delete).received == 1
    current = ccpa_metrics(db, 2026, today=TODAY)
    assert current.year_complete is False
    assert current.kind(ReportKind.delete).received == 1
    assert sum(k.received for k in current.kinds) == 1


@pytest.mark.parametrize(
    ("state", "received", "year"),
    [
        # Midnight in Los Angeles is 08:00 UTC in winter.
        ("CA", "2026-01-01T07:59:59", 2025),
        ("CA", "2026-01-01T08:00:00", 2026),
        # Midnight in New York is 05:00 UTC.
        ("NY", "2026-01-01T04:59:59", 2025),
        ("NY", "2026-01-01T05:00:00", 2026),
        ("NY", "2025-12-31T23:59:59", 2025),
        ("NY", "2025-01-01T04:59:59", 2024),
        ("NY", "2025-01-01T05:00:00", 2025),
    ],
)
def test_the_year_is_the_day_of_receipt_in_the_requesters_state(
    db: Session, state: str, received: str, year: int
) -> None:
    add_request(db, "deletion", state, at(received), days=3)

    found = {y: ccpa_metrics(db, y, today=TODAY).kind(ReportKind.delete).received for y in
             (2024, 2025, 2026)}  # fmt: skip

    assert found == {y: int(y == year) for y in (2024, 2025, 2026)}


def test_tallies_of_purged_requests_count(db: Session) -> None:
    add_year_2025(db)
    add_tally(db, "deletion", date(2025, 1, 1), days=7)
    add_tally(db, "deletion", date(2025, 12, 31), "denied", days=1, reason="exemption",
              state="TX")  # fmt: skip
    add_tally(db, "portability", date(2025, 6, 1), "canceled")
    add_tally(db, "deletion", date(2024, 12, 31), days=7)  # another year
    add_tally(db, "deletion", date(2026, 1, 1), days=7)  # another year
    add_tally(db, "opt_out_profiling", date(2025, 6, 1), days=7)  # not a 7102 kind
    add_tally(db, "deletion", date(2025, 6, 1), days=2, state=None)  # before states were kept

    everyone = ccpa_metrics(db, 2025, today=TODAY)
    california = ccpa_metrics(db, 2025, california_only=True, today=TODAY)

    # Days 10, 20, 45, 3 and tallies 7, 1, 2: median 7.0, mean 88/7 = 12.6.
    assert figures(everyone.kind(ReportKind.delete)) == (9, 4, 3, 1, 0, 2, 0, 7, 7.0, 12.6)
    assert everyone.kind(ReportKind.know).received == 4
    # Days 10, 20 and tally 7: median 10.0, mean 12.3.
    assert figures(california.kind(ReportKind.delete)) == (5, 3, 0, 0, 0, 0, 0, 3, 10.0, 12.3)
    assert california.kind(ReportKind.know).received == 2


def test_rounding_is_half_up_to_one_decimal(db: Session) -> None:
    for days in (0, 0, 0, 1):  # mean 0.25, median 0.0
        add_request(db, "correction", "CA", at("2025-03-01T10:00"), days=days)

    correct = ccpa_metrics(db, 2025, today=TODAY).kind(ReportKind.correct)

    assert (correct.median_days, correct.mean_days) == (0.0, 0.3)


def test_days_are_whole_days_elapsed(db: Session) -> None:
    add_request(db, "correction", "CA", at("2025-03-01T23:00"), days=0.1)  # next calendar day
    add_request(db, "correction", "CA", at("2025-03-01T10:00"), days=2.99)

    correct = ccpa_metrics(db, 2025, today=TODAY).kind(ReportKind.correct)

    assert (correct.median_days, correct.mean_days) == (1.0, 1.0)


def test_requests_through_the_workflow_are_counted_the_same_after_the_purge(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    """Submitted, verified and approved through the request service; then purged 24 months
    after closing: the year's figures do not change."""
    received = at("2025-03-03T17:00")
    request = submit(db, vault, policy, at=received)
    dsr_service.verify(db, vault, request.id, last_code(db, vault, request.id), now=received)
    workflow.approve(
        db, vault, LINKS, request.id, actor="staff:1", now=received + timedelta(days=12)
    )
    denied = submit(db, vault, policy, at=received, type="deletion", email="b@example.com")
    workflow.deny(db, vault, LINKS, denied.id, "could_not_verify", None, actor="staff:1",
                  now=received + timedelta(days=30, hours=5))  # fmt: skip
    assert (request.status, denied.status) == ("completed", "denied")
    before = table(ccpa_metrics(db, 2025, today=TODAY))
    before_ca = table(ccpa_metrics(db, 2025, california_only=True, today=TODAY))

    assert jobs.purge_old_records(db, received + timedelta(days=365 * 3)) == 2
    after = table(ccpa_metrics(db, 2025, today=TODAY))
    after_ca = table(ccpa_metrics(db, 2025, california_only=True, today=TODAY))

    assert before["know"] == (1, 1, 0, 0, 0, 0, 0, 1, 12.0, 12.0)
    assert before["delete"] == (1, 0, 1, 1, 0, 0, 0, 1, 30.0, 30.0)
    assert after == before
    assert before_ca == before  # both requests came from California
    assert after_ca == before_ca


@pytest.mark.parametrize("year", [2019, 2027, 1])
def test_years_outside_the_ccpa_or_in_the_future_are_refused(db: Session, year: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        ccpa_metrics(db, year, today=date(2026, 11, 27))
    assert [p.field for p in refused.value.problems] == ["year"]
    assert refused.value.message == "year: must be a year from 2020 to 2026"


def test_parse_year_and_scope() -> None:
    today = date(2026, 11, 27)
    assert parse_year("", today) == 2025
    assert parse_year(" 2024 ", today) == 2024
    for bad in ("abc", "20x6", "2027", "99999", "２０２５", "-2025"):
        with pytest.raises(InvalidInput):
            parse_year(bad, today)
    assert parse_scope("") is Scope.all
    assert parse_scope("california") is Scope.california
    with pytest.raises(InvalidInput) as refused:
        parse_scope("CA")
    assert refused.value.message == "scope: must be all or california"
