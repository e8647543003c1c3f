"""The mail port: what a sender must do, and the three senders (outbox folder, SMTP, memory).

Every notice the platform sends (request receipts, verification codes, policy changes) is a
`Mail` handed to a `MailSender`. The embedded default writes .eml files that a person can open;
production sends through SMTP; tests may keep mail in memory.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from privacyops.errors import PrivacyOpsError
from privacyops.settings import Settings


class MailError(PrivacyOpsError):
    """A mail could not be handed over; the caller keeps it and retries later."""

    status_code = 503
    title = "Mail not sent"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class MailSender(Protocol):
    def send(self, mail: Mail) -> str:
        """Hand the mail over; returns its Message-ID. Raises MailError when it cannot."""
        ...


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The RFC 5322 message: plain text, plus an HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


class OutboxMailSender:
    """Writes each mail as an .eml file: the embedded default, readable with any mail client."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, mail: Mail) -> str:
        message = build_message(mail, self.sender)
        message_id = str(message["Message-ID"])
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message_id.strip("<>").replace("@", "_at_").replace("/", "_") + ".eml"
        # Write then rename, so a reader never sees half a mail.
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(tmp, self.folder / name)
        return message_id


class SmtpMailSender:
    """Sends through an SMTP server (STARTTLS when the server offers it and it is asked for)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def send(self, mail: Mail) -> str:
        message = build_message(mail, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The reason, not the recipient: addresses stay out of errors and logs.
            raise MailError(f"SMTP server {self.host}:{self.port} refused the mail: {exc}") from exc
        return str(message["Message-ID"])


class MemoryMailSender:
    """Keeps mail in a list: for tests and for dry runs."""

    def __init__(self, sender: str = "privacy@localhost") -> None:
        self.sender = sender
        self.sent: list[EmailMessage] = []
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> str:
        message = build_message(mail, self.sender)
        with self._lock:
            self.sent.append(message)
        return str(message["Message-ID"])


def get_mail_sender(settings: Settings) -> MailSender:
    if settings.mail_backend == "smtp":
        return SmtpMailSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    return OutboxMailSender(settings.outbox_dir, settings.mail_from)
