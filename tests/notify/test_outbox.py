"""The outgoing-mail queue: sent after commit, at most once, retried with back-off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.db import unit_of_work
from privacyops.models.dsr import OutgoingMail
from privacyops.notify import outbox
from privacyops.notify.mail import Mail, MailError, MemoryMailSender, OutboxMailSender
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.vault.support import make_vault

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    with make_vault(settings) as instance:
        yield instance


def queue(
    factory: sessionmaker[Session], vault: Vault, n: int = 1, html: str | None = None
) -> list[int]:
    ids = []
    with unit_of_work(factory) as db:
        for i in range(n):
            row = outbox.queue_mail(
                db,
                vault,
                to=f"person{i}@example.com",
                subject=f"Notice {i}",
                text=f"Your code is 12345{i}",
                html=html,
                template="test",
                now=NOW,
            )
            ids.append(row.id)
    return ids


def rows(factory: sessionmaker[Session]) -> list[OutgoingMail]:
    with unit_of_work(factory) as db:
        return list(db.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def test_sent_after_commit_with_the_body_erased(
    session_factory: sessionmaker[Session], vault: Vault
) -> None:
    queue(session_factory, vault, html="<p>Your code</p>")
    sender = MemoryMailSender()

    result = outbox.dispatch_pending(session_factory, sender, vault, now=NOW)

    assert result.sent == 1
    message = sender.sent[0]
    assert message["To"] == "person0@example.com"
    assert message["Subject"] == "Notice 0"
    assert isinstance(message, EmailMessage)
    assert message.get_body(("plain",)).get_content().strip() == "Your code is 123450"  # type: ignore[union-attr]
    assert message.get_body(("html",)) is not None
    [row] = rows(session_factory)
    assert row.status == "sent"
    assert row.sent_at == NOW
    assert row.message_id
    assert row.text_ciphertext is None
    assert row.html_ciphertext is None
    assert "person0" not in row.to_ciphertext


def test_nothing_is_sent_for_a_rolled_back_transaction(
    session_factory: sessionmaker[Session], vault: Vault
) -> None:
    db = session_factory()
    outbox.queue_mail(db, vault, to="a@example.com", subject="s", text="t", template="t", now=NOW)
    db.rollback()
    db.close()
    sender = MemoryMailSender()

    assert outbox.dispatch_pending(session_factory, sender, vault, now=NOW).sent == 0
    assert sender.sent == []


def test_a_row_is_claimed_once(session_factory: sessionmaker[Session], vault: Vault) -> None:
    [mail_id] = queue(session_factory, vault)

    with unit_of_work(session_factory) as first:
        assert outbox.claim(first, mail_id, NOW)
    with unit_of_work(session_factory) as second:
        assert not outbox.claim(second, mail_id, NOW)


class SecondDispatcher:
    """Runs another dispatcher in the middle of the first one's send: the race, made certain."""

    def __init__(self, factory: sessionmaker[Session], vault: Vault) -> None:
        self.factory, self.vault = factory, vault
        self.memory = MemoryMailSender()
        self.other = MemoryMailSender()
        self.raced = False

    def send(self, mail: Mail) -> str:
        if not self.raced:
            self.raced = True
            outbox.dispatch_pending(self.factory, self.other, self.vault, now=NOW)
        return self.memory.send(mail)


def test_two_dispatchers_send_each_mail_once(
    session_factory: sessionmaker[Session], vault: Vault
) -> None:
    queue(session_factory, vault, n=3)
    racer = SecondDispatcher(session_factory, vault)

    first = outbox.dispatch_pending(session_factory, racer, vault, now=NOW)

    recipients = [m["To"] for m in racer.memory.sent + racer.other.sent]
    assert sorted(recipients) == [f"person{i}@example.com" for i in range(3)]
    assert first.sent == 1
    assert first.skipped == 2
    assert all(row.status == "sent" for row in rows(session_factory))
    assert outbox.dispatch_pending(session_factory, MemoryMailSender(), vault, now=NOW).sent == 0


class FlakySender:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.memory = MemoryMailSender()

    def send(self, mail: Mail) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise MailError("SMTP server 127.0.0.1:25 refused the mail: 451 try later")
        return self.memory.send(mail)


def test_failure_is_retried_with_back_off(
    session_factory: sessionmaker[Session], vault: Vault
) -> None:
    queue(session_factory, vault)
    sender = FlakySender(failures=2)

    assert outbox.dispatch_pending(session_factory, sender, vault, now=NOW).retried == 1
    [row] = rows(session_factory)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert "451 try later" in (row.last_error or "")
    assert "person0" not in (row.last_error or "")

    assert outbox.dispatch_pending(session_factory, sender, vault, now=NOW).sent == 0
    later = NOW + timedelta(minutes=1)
    assert outbox.dispatch_pending(session_factory, sender, vault, now=later).retried == 1
    assert rows(session_factory)[0].next_attempt_at == later + timedelta(minutes=2)
    last = later + timedelta(minutes=2)
    assert outbox.dispatch_pending(session_factory, sender, vault, now=last).sent == 1
    assert len(sender.memory.sent) == 1
    assert rows(session_factory)[0].last_error is None


def test_gives_up_after_max_attempts(session_factory: sessionmaker[Session], vault: Vault) -> None:
    queue(session_factory, vault)
    sender = FlakySender(failures=100)
    moment = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.dispatch_pending(session_factory, sender, vault, now=moment)
        moment += timedelta(days=1)

    [row] = rows(session_factory)
    assert row.status == "failed"
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert outbox.dispatch_pending(session_factory, sender, vault, now=moment).failed == 0


def test_outbox_folder(
    session_factory: sessionmaker[Session], vault: Vault, tmp_path: Path
) -> None:
    queue(session_factory, vault, n=2, html="<p>hi</p>")
    folder = tmp_path / "outbox"

    outbox.dispatch_pending(
        session_factory, OutboxMailSender(folder, "privacy@shop.example"), vault, now=NOW
    )

    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    assert b"To: person" in files[0].read_bytes()


def test_text_messages_go_to_the_sms_port(
    session_factory: sessionmaker[Session], vault: Vault
) -> None:
    with unit_of_work(session_factory) as db:
        outbox.queue_mail(
            db,
            vault,
            to="+12125550123",
            subject="code",
            text="123456 is your code",
            template="sms",
            channel=outbox.MessageChannel.sms,
            now=NOW,
        )
    mail = MemoryMailSender()
    sms = outbox.LogSmsSender()

    assert outbox.dispatch_pending(session_factory, mail, vault, now=NOW, sms_sender=sms).sent == 1
    assert mail.sent == []
    assert sms.count == 1


def test_html_templates_escape_and_text_templates_do_not() -> None:
    rendered = outbox.render_mail(
        "dsr_receipt",
        "subject",
        reference="R-1",
        type_label="Access",
        received_on="today",
        due_on="later",
        needs_code=True,
        high=False,
        details="<script>alert(1)</script>",
        status_url=None,
    )

    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text
