"""Datastores (where personal data lives), the per-collection work of a request in them, access
packages, legal holds, and instructions sent to processors.

Nothing personal is stored in clear: what a traversal found and what an erasure changed is
encrypted under the subject's key (crypto-shredding the subject makes it unreadable), packages
too; connection secrets are vault secrets, named here, never stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class Datastore(Base):
    """A connected datastore: how to reach it and the dataset declarations it holds."""

    __tablename__ = "datastores"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # sql, http, email, manual
    # Non-secret settings (HTTP endpoints, a processor's address...); secrets are vault secrets
    # named `datastore:<key>:<name>`.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    declarations: Mapped[str] = mapped_column(Text, nullable=False)  # dataset YAML
    # The policy recipient this datastore belongs to, when it is a processor's system: erasures
    # and opt-outs are passed on to it ("processors are told").
    recipient: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CollectionTask(Base):
    """One collection's part of a request (`phase`: access, erasure, correction).

    `state_ciphertext` holds what is known so far (values asked, rows found; for erasure the
    outcome), under the subject's key, so a retry resumes where the last attempt stopped.
    `last_error` names the datastore and the reason only (connectors never put personal data
    or secrets in messages)."""

    __tablename__ = "dsr_collection_tasks"
    __table_args__ = (UniqueConstraint("request_id", "phase", "dataset", "collection"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    dataset: Mapped[str] = mapped_column(String(100), nullable=False)
    collection: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    state_ciphertext: Mapped[str | None] = mapped_column(Text)
    # Figures only (rows found, masked, deleted, kept, per field and why): nothing personal.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AccessPackage(Base):
    """One format of a request's access package, encrypted under the subject's key; deleted
    (content erased, row kept as the receipt) when it expires."""

    __tablename__ = "dsr_access_packages"
    __table_args__ = (UniqueConstraint("request_id", "format"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    format: Mapped[str] = mapped_column(String(8), nullable=False)  # json, csv, html
    content_ciphertext: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class LegalHold(Base):
    """A subject whose data must not be erased (litigation, an investigation), until released."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id"), nullable=False, index=True
    )
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    placed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessorInstruction(Base):
    """An instruction mailed to a processor (erase, opt out), open until its link is clicked.

    Only an HMAC of the acknowledgement token is kept."""

    __tablename__ = "processor_instructions"
    __table_args__ = (
        UniqueConstraint("request_id", "datastore", "operation", "collection"),
        UniqueConstraint("propagation_id", "datastore", "operation", "collection"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What it is for: a rights request, or an opt-out passed on to a partner (one of the two).
    request_id: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="SET NULL"), index=True
    )
    propagation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("consent_propagations.id", ondelete="SET NULL"), index=True
    )
    datastore: Mapped[str] = mapped_column(String(100), nullable=False)
    operation: Mapped[str] = mapped_column(String(32), nullable=False)
    collection: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    token_hmac: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
