"""The CCPA metrics of 11 CCR 7102 for one calendar year: per kind of request, how many were
received, complied with in whole or in part, and denied, and how many days a substantive
response took.

How the figures are counted (the admin page and the CSV say the same):

* Year: a request belongs to the year of the day it was received in the requester's state
  (the calendar its deadline is counted in). Tallies of purged requests keep exactly that day,
  so a year's figures stay the same after its requests are purged 24 months later.
* Received: every request of the kind received that year, whatever became of it (open,
  canceled and withdrawn requests included).
* Complied with in whole or in part: completed. Denied: denied, split by the grounds of
  7102(a)(2). Open and canceled requests are neither.
* Days to a substantive response: from receipt to the completion or the denial notice, in
  whole elapsed days (the measure tallies keep); the median and mean over the requests of the
  year that have been answered, rounded to one decimal (half up). A request answered the next
  year counts in the year it was received.
* Purged requests count through their anonymous tallies (`RequestTally`), which hold the same
  facts. Tallies written before the state was kept have none: they count only when everyone
  is reported.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from privacyops.dsr.status import Status
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.reports import repository
from privacyops.reports.schemas import (
    FIRST_YEAR,
    KIND_LABELS,
    KIND_OF_TYPE,
    SCOPE_LABELS,
    DenialGround,
    KindMetrics,
    Metrics,
    ReportKind,
    Scope,
    ground_of,
)
from privacyops.rights.calendar import STATE_TIME_ZONES, as_utc, local_date

CALIFORNIA = "CA"
# Every US zone is within a day of UTC: a UTC window one day wider than the year finds every
# request whose local receipt day falls in it.
_MARGIN = timedelta(days=1)


def receipt_day(received_at: datetime, state: str) -> date:
    """The day a request was received, in the requester's state (UTC for an unknown state)."""
    if state in STATE_TIME_ZONES:
        return local_date(received_at, state)
    return as_utc(received_at).date()


def days_to_response(received_at: datetime, responded_at: datetime) -> int:
    """Whole days elapsed from receipt to the substantive response (what tallies keep)."""
    return (as_utc(responded_at) - as_utc(received_at)).days


def check_year(year: int, today: date) -> int:
    if not FIRST_YEAR <= year <= today.year:
        problem = FieldProblem("year", f"must be a year from {FIRST_YEAR} to {today.year}")
        raise InvalidInput(problem.render(), [problem])
    return year


def parse_year(text: str | None, today: date) -> int:
    """The `year` of a query string; empty means the previous calendar year (the one 7102
    asks to publish by July 1)."""
    value = (text or "").strip()
    if not value:
        return today.year - 1
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        problem = FieldProblem("year", f"must be a year from {FIRST_YEAR} to {today.year}")
        raise InvalidInput(problem.render(), [problem])
    return check_year(int(value), today)


def parse_scope(text: str | None) -> Scope:
    value = (text or "").strip() or Scope.all.value
    try:
        return Scope(value)
    except ValueError:
        known = " or ".join(s.value for s in Scope)
        problem = FieldProblem("scope", f"must be {known}")
        raise InvalidInput(problem.render(), [problem]) from None


@dataclass
class _Counter:
    received: int = 0
    complied: int = 0
    denied: dict[DenialGround, int] = field(default_factory=lambda: dict.fromkeys(DenialGround, 0))
    days: list[int] = field(default_factory=list)

    def add(self, outcome: str, denial_reason: str | None, days: int | None) -> None:
        self.received += 1
        if outcome == Status.completed:
            self.complied += 1
        elif outcome == Status.denied:
            self.denied[ground_of(denial_reason)] += 1
        if days is not None and outcome in (Status.completed, Status.denied):
            self.days.append(days)


def ccpa_metrics(
    db: Session, year: int, *, california_only: bool = False, today: date | None = None
) -> Metrics:
    """The 7102 figures of calendar `year`, for every individual or California consumers only."""
    today = today or datetime.now(UTC).date()
    check_year(year, today)
    state = CALIFORNIA if california_only else None
    counters = {kind: _Counter() for kind in ReportKind}
    types = list(KIND_OF_TYPE)

    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    for row in repository.live_requests(db, types, start - _MARGIN, end + _MARGIN, state):
        if receipt_day(row.received_at, row.state).year != year:
            continue
        days = None
        if row.responded_at is not None:
            days = days_to_response(row.received_at, row.responded_at)
        counters[KIND_OF_TYPE[row.type]].add(row.status, row.denial_reason, days)

    first, last = date(year, 1, 1), date(year, 12, 31)
    for tally in repository.tallies(db, types, first, last, state):
        counters[KIND_OF_TYPE[tally.type]].add(
            tally.outcome, tally.denial_reason, tally.days_to_response
        )

    scope = Scope.california if california_only else Scope.all
    return Metrics(
        year=year,
        scope=scope,
        scope_label=SCOPE_LABELS[scope],
        year_complete=year < today.year,
        kinds=[_figures(kind, counters[kind]) for kind in ReportKind],
    )


def _figures(kind: ReportKind, counter: _Counter) -> KindMetrics:
    denied = counter.denied
    return KindMetrics(
        kind=kind,
        label=KIND_LABELS[kind],
        received=counter.received,
        complied=counter.complied,
        denied=sum(denied.values()),
        denied_not_verifiable=denied[DenialGround.not_verifiable],
        denied_not_by_consumer=denied[DenialGround.not_by_consumer],
        denied_exempt=denied[DenialGround.exempt],
        denied_other=denied[DenialGround.other],
        responses_timed=len(counter.days),
        median_days=_median(counter.days),
        mean_days=_mean(counter.days),
    )


def _one_decimal(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _median(days: Iterable[int]) -> float | None:
    values = list(days)
    if not values:
        return None
    return _one_decimal(Decimal(str(statistics.median(values))))


def _mean(days: Iterable[int]) -> float | None:
    values = list(days)
    if not values:
        return None
    return _one_decimal(Decimal(sum(values)) / Decimal(len(values)))


CSV_COLUMNS = (
    "kind",
    "request",
    "received",
    "complied_in_whole_or_in_part",
    "denied",
    "denied_not_verifiable",
    "denied_not_made_by_consumer",
    "denied_exempt",
    "denied_other_grounds",
    "median_days_to_respond",
    "mean_days_to_respond",
)


def scope_note(metrics: Metrics) -> str:
    """The line that says what the figures are: 7102(b) asks to say whom they cover."""
    partial = "" if metrics.year_complete else " (year not over: figures to date)"
    return (
        f"CCPA 11 CCR 7102 metrics; calendar year {metrics.year}{partial}; "
        f"scope: {metrics.scope_label}"
    )


def ccpa_csv(metrics: Metrics) -> str:
    """One comment row (year and scope), a header row, then one row per kind of request.
    Days are empty where no request of the kind was answered."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"# {scope_note(metrics)}"])
    writer.writerow(CSV_COLUMNS)
    for k in metrics.kinds:
        writer.writerow(
            [
                k.kind.value,
                k.label,
                k.received,
                k.complied,
                k.denied,
                k.denied_not_verifiable,
                k.denied_not_by_consumer,
                k.denied_exempt,
                k.denied_other,
                _days(k.median_days),
                _days(k.mean_days),
            ]
        )
    return buffer.getvalue()


def csv_filename(metrics: Metrics) -> str:
    return f"ccpa-7102-{metrics.year}-{metrics.scope.value}.csv"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
