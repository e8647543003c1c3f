"""Data subject (rights) requests, their identities, codes, events and tasks; outgoing mail.

Nothing personal is stored in clear here. Identities are a blind index (to find them) and a
ciphertext under the subject's data key (to read them); free text (details, corrections, agent
data, staff notes, the stronger-verification evidence) is encrypted under the same key, so that
crypto-shredding the subject makes the request unreadable too. Verification codes are kept as an
HMAC only. Outgoing mail is encrypted under the key ring until sent, then its body is erased.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class DataRequest(Base):
    """One rights request. `id` is a random public reference (`R-` and 10 characters, 50 bits):
    it names the request in mails and on the phone, and opens nothing by itself."""

    __tablename__ = "dsr_requests"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(2), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id"), nullable=False, index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    extended_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[str] = mapped_column(String(16), nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    due_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    denial_reason: Mapped[str | None] = mapped_column(String(40))
    # Under the subject's key: the legal basis or explanation may quote the person's own data.
    denial_detail_ciphertext: Mapped[str | None] = mapped_column(Text)
    appeal_of: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="SET NULL"), index=True
    )
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    rules_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # {"details", "corrections", "agent"} as JSON, under the subject's key.
    payload_ciphertext: Mapped[str | None] = mapped_column(Text)
    # {"extra_points", "declaration_signed", "signer_name", "signed_at"}, under the subject's key.
    evidence_ciphertext: Mapped[str | None] = mapped_column(Text)
    via_agent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    specific_pieces: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sensitive_deletion: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    access_format: Mapped[str | None] = mapped_column(String(16))
    # sha256 of the client's Idempotency-Key, and a keyed hash of the body it came with.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    entered_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def effective_due_at(self) -> datetime:
        return self.extended_due_at or self.due_at


class RequestIdentity(Base):
    """An identity the requester gave (email, phone, loyalty id); used to search only once
    `verified_at` is set."""

    __tablename__ = "dsr_request_identities"
    __table_args__ = (UniqueConstraint("request_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    blind_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VerificationCode(Base):
    """The live code of one identity: an HMAC of it (never the code), its expiry and counters.

    A resend replaces the code in the same row, so `sends` limits them."""

    __tablename__ = "dsr_verification_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    identity_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("dsr_request_identities.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    )
    code_hmac: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sends: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestEvent(Base):
    """A transition or a staff note: who, when, from -> to; free text under the subject's key."""

    __tablename__ = "dsr_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note_ciphertext: Mapped[str | None] = mapped_column(Text)


class RequestTask(Base):
    """Fulfilment work in one datastore. Manual for now: staff mark it done with a result."""

    __tablename__ = "dsr_request_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    result_ciphertext: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RequestTally(Base):
    """What remains of a purged request: anonymous figures for the yearly metrics (11 CCR
    7102). No reference, no subject, no identity."""

    __tablename__ = "dsr_request_tallies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    denial_reason: Mapped[str | None] = mapped_column(String(40))
    days_to_response: Mapped[int | None] = mapped_column(Integer)
    # The requester's state, for the California-only figures of 7102(b). A state alone
    # identifies no one. Empty on tallies written before it was added (migration 0006).
    state: Mapped[str | None] = mapped_column(String(2))


class OutgoingMail(Base):
    """A message waiting to be sent (or sent). Queued in the transaction of the change it tells
    about, sent after commit by the dispatcher: nothing is lost, nothing is sent for a change
    rolled back. Recipient and body are encrypted under the key ring; the body is erased once
    sent (the receipt of sending stays)."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False, default="email")
    to_ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    text_ciphertext: Mapped[str | None] = mapped_column(Text)
    html_ciphertext: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    request_id: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("dsr_requests.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
