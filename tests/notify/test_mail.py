"""One conformance test for every mail sender: what goes in comes out, as a real message."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from privacyops.notify.mail import (
    Mail,
    MailError,
    MailSender,
    MemoryMailSender,
    OutboxMailSender,
    SmtpMailSender,
    get_mail_sender,
)
from privacyops.settings import Settings
from tests.browser import free_port

SENDER = "privacy@shop.example"


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def _read_outbox(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


@pytest.fixture(params=["outbox", "smtp", "memory"])
def sender_and_received(
    request: pytest.FixtureRequest, tmp_path: Path, smtp_server: tuple[int, Inbox]
) -> tuple[MailSender, Any]:
    if request.param == "outbox":
        return OutboxMailSender(tmp_path / "outbox", SENDER), lambda: _read_outbox(
            tmp_path / "outbox"
        )
    if request.param == "smtp":
        port, inbox = smtp_server
        return SmtpMailSender("127.0.0.1", port, SENDER), lambda: inbox.messages
    memory = MemoryMailSender(SENDER)
    return memory, lambda: memory.sent


def test_every_sender_delivers_the_same_message(
    sender_and_received: tuple[MailSender, Any],
) -> None:
    sender, received = sender_and_received
    mail = Mail(
        to="Zoë <zoe@example.org>",
        subject="Your request — received ✓",
        text="We received your request.\nReference: R-1",
        html="<p>We received your request.</p>",
        headers={"X-Privacyops-Request": "R-1"},
    )
    message_id = sender.send(mail)

    messages = received()
    assert len(messages) == 1
    got = messages[0]
    assert got["Message-ID"] == message_id
    assert got["From"] == SENDER
    assert got["To"] == "Zoë <zoe@example.org>"
    assert got["Subject"] == "Your request — received ✓"
    assert got["X-Privacyops-Request"] == "R-1"
    text_part = got.get_body(preferencelist=("plain",))
    html_part = got.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    # SMTP carries CRLF line ends; the text is the same.
    assert _lines(text_part.get_content()) == "We received your request.\nReference: R-1"
    assert _lines(html_part.get_content()) == "<p>We received your request.</p>"


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def test_an_unreachable_smtp_server_is_a_mail_error_without_the_address() -> None:
    sender = SmtpMailSender("127.0.0.1", free_port(), SENDER, timeout=2)
    with pytest.raises(MailError) as raised:
        sender.send(Mail(to="zoe@example.org", subject="s", text="t"))
    assert "zoe@example.org" not in raised.value.message


def test_settings_choose_the_sender(tmp_path: Path) -> None:
    outbox = get_mail_sender(Settings(data_dir=tmp_path))
    smtp = get_mail_sender(Settings(data_dir=tmp_path, mail_backend="smtp", smtp_port=2525))
    assert isinstance(outbox, OutboxMailSender)
    assert outbox.folder == tmp_path / "outbox"
    assert isinstance(smtp, SmtpMailSender)
    assert smtp.port == 2525
