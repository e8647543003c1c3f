"""Days and clocks for request deadlines: business days, US federal holidays, state time zones.

A deadline falls at the end of a day in the requester's state, so the same instant can be one
day in California and the next in New York. Each state has one main time zone here: the zone
most of its people live in. In the few states split between two zones (the Florida panhandle,
western Kentucky, El Paso, ...) residents of the other zone get the main zone's clock, so their
deadline can fall an hour before or after their own midnight; the time zone the deadline was
computed in is stored with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# USPS code -> IANA zone of most of the state's people.
STATE_TIME_ZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}  # fmt: skip

_MONDAY, _THURSDAY = 0, 3
_SATURDAY, _SUNDAY = 5, 6


def state_zone(state: str) -> ZoneInfo:
    """The state's main time zone; KeyError for a code that is not a US state or territory."""
    return ZoneInfo(STATE_TIME_ZONES[state])


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC. A naive datetime is taken as UTC: that is how the platform stores time
    (and SQLite gives it back without its zone)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime, state: str) -> date:
    """The calendar day `moment` falls on in the state."""
    return as_utc(moment).astimezone(state_zone(state)).date()


def end_of_day(day: date, state: str) -> datetime:
    """The last instant of `day` in the state, in UTC."""
    return end_of_day_in(day, state_zone(state))


def end_of_day_in(day: date, zone: ZoneInfo) -> datetime:
    """The last instant (23:59:59.999999) of `day` in `zone`, in UTC."""
    return datetime.combine(day, time.max, tzinfo=zone).astimezone(UTC)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Federal rule (5 U.S.C. 6103(b)): a Saturday holiday is observed on Friday, a Sunday
    holiday on Monday."""
    if day.weekday() == _SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == _SUNDAY:
        return day + timedelta(days=1)
    return day


def _actual_holidays(year: int) -> dict[date, str]:
    """The legal public holidays of 5 U.S.C. 6103(a) in `year`, on their own days."""
    days = {
        date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 1, _MONDAY, 3): "Birthday of Martin Luther King, Jr.",
        _nth_weekday(year, 2, _MONDAY, 3): "Washington's Birthday",
        _last_weekday(year, 5, _MONDAY): "Memorial Day",
        date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, _MONDAY, 1): "Labor Day",
        _nth_weekday(year, 10, _MONDAY, 2): "Columbus Day",
        date(year, 11, 11): "Veterans Day",
        _nth_weekday(year, 11, _THURSDAY, 4): "Thanksgiving Day",
        date(year, 12, 25): "Christmas Day",
    }
    if year >= 2021:  # Juneteenth National Independence Day Act, 17 June 2021
        days[date(year, 6, 19)] = "Juneteenth National Independence Day"
    return days


def federal_holidays(year: int) -> dict[date, str]:
    """US federal holidays as observed, that fall in `year`. The New Year's Day of `year + 1`
    falls in `year` when it is a Saturday (observed on 31 December)."""
    observed: dict[date, str] = {}
    for source_year in (year, year + 1):
        for day, name in _actual_holidays(source_year).items():
            moved = _observed(day)
            if moved.year == year:
                observed[moved] = name if moved == day else f"{name} (observed)"
    return dict(sorted(observed.items()))


def is_business_day(day: date) -> bool:
    """Monday to Friday, and not a federal holiday as observed."""
    return day.weekday() < _SATURDAY and day not in federal_holidays(day.year)


def add_business_days(start: date, days: int, state: str) -> date:
    """`start` plus `days` business days: the first business day after `start` is day 1.

    Weekends and US federal holidays (as observed) are skipped. State holidays are not: the
    federal calendar is what the CCPA regulations' "business days" are read against, and a
    shorter count only makes the deadline earlier. `state` must be a US state or territory code.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    state_zone(state)  # an unknown state is a caller's bug: fail loudly
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day
