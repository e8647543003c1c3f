"""A transactional queue of outgoing mail (and text messages), and the dispatcher that sends it.

Why a queue: a notice is queued in the same transaction as the change it tells about, and is
sent only after that transaction commits. A request rolled back sends nothing; a mail server
down loses nothing (the row waits and is retried with back-off).

At most once: the dispatcher claims a row with `UPDATE ... SET status='sending' WHERE id=? AND
status='pending'` and commits before sending, so of two dispatchers only one gets the row. A
dispatcher that dies between the claim and the send leaves the row in `sending`: it is not
sent again automatically (that could send it twice); `stale_claims` lists such rows for staff.

Privacy: the recipient and the body are encrypted under the vault's key ring while queued, and
the body is erased once the message is handed over (a verification code must not outlive its
purpose in the database); the row then only records that, when and which template was sent.

The queries of this small domain live here too: it has no other module to share them with.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import unit_of_work
from privacyops.models.dsr import OutgoingMail
from privacyops.models.types import utcnow
from privacyops.notify.mail import Mail, MailSender
from privacyops.vault.service import Vault

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
MAX_ATTEMPTS = 5
QUEUED_FLAG = "privacyops.outbox.queued"
FIRST_RETRY = timedelta(minutes=1)
_TO_CONTEXT = "outgoing_mail:to"
_TEXT_CONTEXT = "outgoing_mail:text"
_HTML_CONTEXT = "outgoing_mail:html"


class MailStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class MessageChannel(StrEnum):
    email = "email"
    sms = "sms"


# --- text messages: the port and its log-only implementation -----------------------------------


class SmsSender(Protocol):
    def send_sms(self, to: str, text: str) -> str:
        """Hand the message over; returns an id. Raises MailError when it cannot."""
        ...


class LogSmsSender:
    """No SMS gateway: logs that a message would have been sent, with its length and a running
    reference; never the number, never the text (it holds a code)."""

    def __init__(self) -> None:
        self.count = 0

    def send_sms(self, to: str, text: str) -> str:
        self.count += 1
        ref = hashlib.sha256(f"sms|{self.count}|{len(text)}".encode()).hexdigest()[:12]
        log.info(
            "text message not sent (log-only SMS sender), %d characters, ref %s", len(text), ref
        )
        return f"log-sms-{ref}"


# --- rendering -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def mail_environment() -> Environment:
    """Plain-text templates as written; HTML templates autoescaped (a requester's free text
    may hold markup, and mail clients render HTML)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def render_mail(template: str, subject: str, **context: Any) -> Rendered:
    """`<template>.txt` and, when it exists, `<template>.html`."""
    env = mail_environment()
    text = env.get_template(f"{template}.txt").render(subject=subject, **context)
    html = None
    if (TEMPLATES_DIR / f"{template}.html").exists():
        html = env.get_template(f"{template}.html").render(subject=subject, **context)
    return Rendered(subject=subject, text=text, html=html)


# --- queueing ------------------------------------------------------------------------------------


def queue_mail(
    db: Session,
    vault: Vault,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str,
    request_id: str | None = None,
    channel: MessageChannel = MessageChannel.email,
    now: datetime | None = None,
) -> OutgoingMail:
    """Queue one message in the caller's transaction; the dispatcher sends it after commit."""
    row = OutgoingMail(
        channel=channel.value,
        to_ciphertext=vault.encrypt_secret(to, _TO_CONTEXT),
        subject=subject[:200],
        text_ciphertext=vault.encrypt_secret(text, _TEXT_CONTEXT),
        html_ciphertext=vault.encrypt_secret(html, _HTML_CONTEXT) if html is not None else None,
        template=template,
        request_id=request_id,
        status=MailStatus.pending.value,
        attempts=0,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    db.add(row)
    db.flush()
    # Lets the edge that commits this session know there is mail to dispatch right after.
    db.info[QUEUED_FLAG] = True
    return row


def queue_rendered(
    db: Session,
    vault: Vault,
    *,
    to: str,
    rendered: Rendered,
    template: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    return queue_mail(
        db,
        vault,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        template=template,
        request_id=request_id,
        now=now,
    )


# --- queries -------------------------------------------------------------------------------------


def due_ids(db: Session, now: datetime, limit: int) -> list[int]:
    query = (
        select(OutgoingMail.id)
        .where(OutgoingMail.status == MailStatus.pending.value)
        .where(OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def claim(db: Session, mail_id: int, now: datetime) -> bool:
    """Take the row for sending; False when another dispatcher has it (or it is not pending)."""
    result = db.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.status == MailStatus.pending.value)
        .values(status=MailStatus.sending.value, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def stale_claims(db: Session, older_than: datetime) -> Sequence[OutgoingMail]:
    """Rows claimed before `older_than` and never marked: a dispatcher died mid-send."""
    query = select(OutgoingMail).where(
        OutgoingMail.status == MailStatus.sending.value, OutgoingMail.claimed_at < older_than
    )
    return db.scalars(query).all()


def mails_for_request(db: Session, request_id: str) -> Sequence[OutgoingMail]:
    query = (
        select(OutgoingMail).where(OutgoingMail.request_id == request_id).order_by(OutgoingMail.id)
    )
    return db.scalars(query).all()


# --- dispatching ---------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


def dispatch_pending(
    session_factory: sessionmaker[Session],
    sender: MailSender,
    vault: Vault,
    *,
    limit: int = 50,
    now: datetime | None = None,
    sms_sender: SmsSender | None = None,
) -> DispatchResult:
    """Send up to `limit` due messages, each in its own claim -> send -> mark cycle.

    Idempotent and safe to run in several processes at once (see the module docstring).
    """
    moment = now or utcnow()
    result = DispatchResult()
    with unit_of_work(session_factory) as db:
        ids = due_ids(db, moment, limit)
    for mail_id in ids:
        _dispatch_one(
            session_factory, sender, sms_sender or LogSmsSender(), vault, mail_id, moment, result
        )
    return result


def _dispatch_one(
    factory: sessionmaker[Session],
    sender: MailSender,
    sms_sender: SmsSender,
    vault: Vault,
    mail_id: int,
    now: datetime,
    result: DispatchResult,
) -> None:
    with unit_of_work(factory) as db:
        if not claim(db, mail_id, now):
            result.skipped += 1
            return
        row = db.get(OutgoingMail, mail_id)
        assert row is not None  # just claimed
        channel = MessageChannel(row.channel)
        to = vault.decrypt_secret(row.to_ciphertext, _TO_CONTEXT)
        text = vault.decrypt_secret(row.text_ciphertext or "", _TEXT_CONTEXT)
        html = (
            vault.decrypt_secret(row.html_ciphertext, _HTML_CONTEXT)
            if row.html_ciphertext
            else None
        )
        subject = row.subject
    try:
        if channel is MessageChannel.sms:
            message_id = sms_sender.send_sms(to, text)
        else:
            message_id = sender.send(Mail(to=to, subject=subject, text=text, html=html))
    except Exception as exc:
        with unit_of_work(factory) as db:
            _mark_failed(db, mail_id, exc, now, result)
        return
    with unit_of_work(factory) as db:
        _mark_sent(db, mail_id, message_id, now)
    result.sent += 1


def _mark_sent(db: Session, mail_id: int, message_id: str, now: datetime) -> None:
    row = db.get(OutgoingMail, mail_id)
    assert row is not None
    row.status = MailStatus.sent.value
    row.sent_at = now
    row.attempts += 1
    row.message_id = message_id[:255]
    row.last_error = None
    # The body has done its job; a code or a link must not stay readable in the database.
    row.text_ciphertext = None
    row.html_ciphertext = None
    db.flush()


def _mark_failed(
    db: Session, mail_id: int, exc: Exception, now: datetime, result: DispatchResult
) -> None:
    row = db.get(OutgoingMail, mail_id)
    assert row is not None
    row.attempts += 1
    # The error's text, never the recipient (MailError messages carry no addresses).
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = MailStatus.failed.value
        result.failed += 1
        log.warning("mail %s failed for good after %d attempts", mail_id, row.attempts)
    else:
        row.status = MailStatus.pending.value
        row.next_attempt_at = now + FIRST_RETRY * (2 ** (row.attempts - 1))
        result.retried += 1
        log.info("mail %s not sent (attempt %d), retried later", mail_id, row.attempts)
    db.flush()
