"""The consumer's steps in a browser, reusable by other browser tests (the full Done-when flow
continues with a privacy officer in the console and the completion mail)."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

CODE_SUBJECT = "Your verification code"


def outbox_messages(outbox_dir: Path, to: str | None = None) -> list[EmailMessage]:
    """The .eml files of the outbox folder, oldest first, optionally only those sent to `to`."""
    found = []
    for path in sorted(Path(outbox_dir).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if to is None or message["To"] == to:
            found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def codes(outbox_dir: Path, to: str | None = None, reference: str | None = None) -> list[str]:
    """The 6-digit codes of the verification mails (to `to`, for request `reference`), oldest
    first as far as the files' times tell (mails written in the same instant keep no order)."""
    found = []
    for message in outbox_messages(outbox_dir, to):
        text = text_of(message)
        if not str(message["Subject"]).startswith(CODE_SUBJECT):
            continue
        if reference is not None and reference not in text:
            continue
        match = re.search(r"\b(\d{6})\b", text)
        assert match is not None, "the code mail holds no 6-digit code"
        found.append(match.group(1))
    return found


def read_code(outbox_dir: Path, to: str | None = None, reference: str | None = None) -> str:
    """The code of the newest verification mail (to `to`, for request `reference`)."""
    found = codes(outbox_dir, to, reference)
    assert found, f"no verification code in {outbox_dir}"
    return found[-1]


def submit_access_request(page: Any, base: str, email_address: str, state: str = "CA") -> str:
    """Open the form, choose the state and an access request (categories), give the address and
    send it. Returns the request's reference; the page is then the verification page."""
    page.goto(f"{base}/requests/new")
    page.get_by_label("Where do you live?").select_option(state)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Access to your information", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email address", exact=True).fill(email_address)
    page.get_by_role("button", name="Send the request").click()
    match = re.search(r"/requests/(R-[0-9A-Z]+)/verify\?token=", page.url)
    assert match is not None, page.url
    return match.group(1)


def verify(page: Any, code: str) -> None:
    """Enter the code on the verification page; the page is then the status page."""
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert re.search(r"/requests/R-[0-9A-Z]+\?token=", page.url), page.url
