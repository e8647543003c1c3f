"""Data subjects and their identities. No identity is stored in clear: a blind index to find it,
a ciphertext under the subject's own data key to read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class DataSubject(Base):
    """A person the platform holds data about. The row outlives crypto-shredding (`shredded_at`)
    so that the audit log and request history still point somewhere; it holds nothing personal."""

    __tablename__ = "data_subjects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubjectIdentity(Base):
    __tablename__ = "subject_identities"
    # Leading with blind_index, the constraint is also the lookup index.
    __table_args__ = (UniqueConstraint("blind_index", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    blind_index: Mapped[str] = mapped_column(String(64), nullable=False)
    ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
