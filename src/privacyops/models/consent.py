"""The consent ledger: append-only records of every choice, and the current decision derived
from them (one row per person or browser and purpose, cheap to read in bulk).

No identity is stored in clear: a person is a data subject (found through the vault's blind
index), a browser is the random first-party id the banner keeps; the client address is a keyed
hash. Records are never updated or deleted by the platform (the repository offers neither).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("data_subjects.id"), index=True
    )
    browser_id: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    allowed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # banner, gpc, unsubscribe_link, sms_reply, preference_page, staff, api, import
    method: Mapped[str] = mapped_column(String(24), nullable=False)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(2))
    recorded_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    # Evidence: the wording shown (not personal), its hash, a keyed hash of the client address.
    wording: Mapped[str | None] = mapped_column(Text)
    wording_sha256: Mapped[str | None] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    list_key: Mapped[str | None] = mapped_column(String(100))
    # An explicit opt-in this record overrides (a GPC signal after a "yes"): shown to the person.
    overrides_record: Mapped[int | None] = mapped_column(Integer)


class ConsentDecision(Base):
    """The latest record per (person or browser, purpose): what the decision API reads."""

    __tablename__ = "consent_decisions"
    __table_args__ = (
        UniqueConstraint("subject_id", "purpose"),
        UniqueConstraint("browser_id", "purpose"),
        Index("ix_consent_decisions_purpose_allowed", "purpose", "allowed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("data_subjects.id"))
    browser_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    allowed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    record_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("consent_records.id"), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ConsentPropagation(Base):
    """An opt-out passed on to a partner's datastore: tracked like a request's task, due
    within 15 business days (11 CCR 7026(f)), retried with back-off."""

    __tablename__ = "consent_propagations"
    __table_args__ = (UniqueConstraint("record_id", "datastore", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("consent_records.id"), nullable=False, index=True
    )
    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id"), nullable=False
    )
    datastore: Mapped[str] = mapped_column(String(100), nullable=False)
    recipient: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # sale, sharing, targeted_...
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What staff wrote when they closed the task by hand, under the person's key (free text may
    # name them); the audit event says who closed it and when.
    note_ciphertext: Mapped[str | None] = mapped_column(Text)
