"""Searching and exporting events with filters (the admin console's browser, the API, the CLI)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.schemas import AuditEventList, AuditFilters
from privacyops.audit.service import export_events, record, search_events
from privacyops.errors import InvalidInput
from privacyops.models.types import UTCDateTime

SUBJECT = "a" * 64


@pytest.fixture
def events(db: Session) -> Session:
    """Six events on three days (backdated directly, as if recorded then)."""
    plan = [
        (AuditAction.staff_created, "cli", None, "staff:1", date(2026, 1, 10)),
        (AuditAction.staff_login, "staff:1", None, None, date(2026, 1, 10)),
        (AuditAction.staff_role_changed, "staff:1", None, "staff:2", date(2026, 1, 11)),
        (AuditAction.subject_viewed, "staff:2", SUBJECT, "subject:9", date(2026, 1, 11)),
        (AuditAction.staff_logout, "staff:1", None, None, date(2026, 1, 12)),
        (AuditAction.audit_viewed, "staff:3", None, None, date(2026, 1, 12)),
    ]
    statement = text("UPDATE audit_events SET at = :at WHERE seq = :seq").bindparams(
        bindparam("at", type_=UTCDateTime())
    )
    for action, actor, subject, target, day in plan:
        event = record(db, action, actor=actor, subject=subject, target=target)
        at = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        db.execute(statement, {"at": at, "seq": event.seq})
    db.commit()
    db.expire_all()
    return db


def seqs(db: Session, **filters: object) -> list[int]:
    page = search_events(db, AuditFilters.model_validate(filters), 0, 50)
    assert page.total == len(page.items)
    return [e.seq for e in page.items]


def test_no_filter_lists_everything_newest_first(events: Session) -> None:
    assert seqs(events) == [6, 5, 4, 3, 2, 1]


def test_each_filter(events: Session) -> None:
    assert seqs(events, actor="staff:1") == [5, 3, 2]
    assert seqs(events, action="staff.login") == [2]
    assert seqs(events, action="staff.") == [5, 3, 2, 1]
    assert seqs(events, action="staff.*") == [5, 3, 2, 1]
    assert seqs(events, action="nothing.") == []
    assert seqs(events, subject=SUBJECT) == [4]
    assert seqs(events, target="staff:2") == [3]


def test_dates_are_inclusive_utc_days(events: Session) -> None:
    assert seqs(events, date_from="2026-01-11") == [6, 5, 4, 3]
    assert seqs(events, date_to="2026-01-11") == [4, 3, 2, 1]
    assert seqs(events, date_from="2026-01-11", date_to="2026-01-11") == [4, 3]


def test_filters_combine(events: Session) -> None:
    assert seqs(events, actor="staff:1", action="staff.", date_from="2026-01-11") == [5, 3]


def test_pages_count_every_match(events: Session) -> None:
    page = search_events(events, AuditFilters(action="staff."), offset=1, limit=2)
    assert [e.seq for e in page.items] == [3, 2]
    assert (page.total, page.offset, page.limit) == (4, 1, 2)
    listed = AuditEventList.of(page)
    assert listed.items[0].action == "staff.role_changed"
    assert listed.total == 4


def test_bad_page_and_dates_name_the_field(events: Session) -> None:
    with pytest.raises(InvalidInput) as limit:
        search_events(events, AuditFilters(), offset=0, limit=0)
    assert [p.field for p in limit.value.problems] == ["limit"]
    with pytest.raises(InvalidInput) as dates:
        search_events(events, AuditFilters(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))
    assert [p.field for p in dates.value.problems] == ["date_to"]
    with pytest.raises(ValidationError):
        AuditFilters.model_validate({"colour": "red"})


def test_export_streams_oldest_first_in_batches(events: Session) -> None:
    exported = list(export_events(events, AuditFilters(actor="staff:1"), batch_size=2))
    assert [e["seq"] for e in exported] == [2, 3, 5]
    assert exported[0]["at"] == "2026-01-10T23:59:59.000000Z"
    assert exported[1]["target"] == "staff:2"


def test_export_stops_at_a_snapshot(events: Session) -> None:
    exported = list(export_events(events, AuditFilters(), upto_seq=4, batch_size=4))
    assert [e["seq"] for e in exported] == [1, 2, 3, 4]
