"""Business days and federal holidays, checked against the OPM holiday calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from privacyops.rights.calendar import (
    add_business_days,
    end_of_day,
    federal_holidays,
    is_business_day,
    local_date,
)


def test_federal_holidays_2026() -> None:
    # OPM, "2026 Holiday Schedule": Independence Day (Saturday) observed Friday 3 July.
    assert list(federal_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]


def test_federal_holidays_2027_observed_on_friday_and_monday() -> None:
    holidays = federal_holidays(2027)
    assert holidays[date(2027, 6, 18)] == "Juneteenth National Independence Day (observed)"
    assert holidays[date(2027, 7, 5)] == "Independence Day (observed)"  # 4 July is a Sunday
    assert holidays[date(2027, 12, 24)] == "Christmas Day (observed)"
    # New Year's Day 2028 is a Saturday: observed on Friday 31 December 2027.
    assert holidays[date(2027, 12, 31)] == "New Year's Day (observed)"
    assert date(2028, 1, 1) not in federal_holidays(2028)
    assert len(holidays) == 12


def test_juneteenth_only_from_2021() -> None:
    assert date(2020, 6, 19) not in federal_holidays(2020)
    assert date(2021, 6, 18) in federal_holidays(2021)  # 19 June 2021 was a Saturday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # over Thanksgiving
        (date(2026, 11, 20), 10, date(2026, 12, 7)),  # CCPA receipt: 10 business days
        (date(2026, 12, 23), 3, date(2026, 12, 29)),  # over Christmas and a weekend
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # over New Year's Day (a Friday)
        (date(2027, 12, 23), 1, date(2027, 12, 27)),  # Christmas observed on Friday 24th
        (date(2027, 12, 30), 1, date(2028, 1, 3)),  # New Year 2028 observed on 31 Dec 2027
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # from a Saturday
        (date(2026, 11, 28), 0, date(2026, 11, 28)),
        (date(2026, 11, 27), 15, date(2026, 12, 18)),
    ],
)
def test_add_business_days(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days, "CA") == expected


def test_add_business_days_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_days(date(2026, 1, 5), -1, "CA")
    with pytest.raises(KeyError):
        add_business_days(date(2026, 1, 5), 1, "XX")


def test_business_day() -> None:
    assert is_business_day(date(2026, 11, 27))
    assert not is_business_day(date(2026, 11, 26))
    assert not is_business_day(date(2026, 11, 29))


def test_local_day_and_end_of_day() -> None:
    moment = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    assert local_date(moment, "CA") == date(2026, 2, 28)
    assert local_date(moment, "NY") == date(2026, 3, 1)
    assert local_date(datetime(2026, 3, 1, 6, 0), "CA") == date(2026, 2, 28)  # naive = UTC
    # Daylight saving time starts on 8 March 2026: PST before, PDT after.
    assert end_of_day(date(2026, 3, 7), "CA") == datetime(2026, 3, 8, 7, 59, 59, 999999, UTC)
    assert end_of_day(date(2026, 3, 9), "CA") == datetime(2026, 3, 10, 6, 59, 59, 999999, UTC)
    assert end_of_day(date(2026, 3, 9), "AZ") == datetime(2026, 3, 10, 6, 59, 59, 999999, UTC)
