"""Shared by the request tests: a published policy, a clock, submitting, reading the outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.dsr import service
from privacyops.dsr.schemas import RequestIn
from privacyops.dsr.status import Channel
from privacyops.dsr.tokens import StatusLinks
from privacyops.models.dsr import (
    DataRequest,
    OutgoingMail,
    RequestEvent,
    RequestIdentity,
    VerificationCode,
)
from privacyops.models.policy import PolicyVersion
from privacyops.policy import service as policy_service
from privacyops.policy.loader import load_manifest_file
from privacyops.vault.service import Vault
from tests.conftest import EXAMPLE_POLICY

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday, after Thanksgiving
LINKS = StatusLinks("test-secret-key-for-status-links", "http://testserver")
EMAIL = "ann.requester@example.com"


def publish_example(db: Session) -> PolicyVersion:
    loaded = load_manifest_file(EXAMPLE_POLICY)
    assert loaded.manifest is not None
    result = policy_service.publish(
        db, loaded, loaded.manifest.last_updated, date(2026, 1, 1), published_by="test"
    )
    return result.version


def body(**overrides: Any) -> RequestIn:
    data: dict[str, Any] = {"type": "access", "state": "CA", "email": EMAIL}
    data.update(overrides)
    return RequestIn.model_validate({k: v for k, v in data.items() if v is not None})


def submit(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    *,
    at: datetime = T0,
    key: str | None = None,
    channel: Channel = Channel.api,
    **overrides: Any,
) -> DataRequest:
    return service.submit(
        db, vault, policy, body(**overrides), channel, at, links=LINKS, idempotency_key=key
    ).request


@dataclass
class Message:
    template: str
    channel: str
    to: str
    subject: str
    text: str
    html: str | None


def messages(db: Session, vault: Vault, request_id: str | None = None) -> list[Message]:
    query = select(OutgoingMail).order_by(OutgoingMail.id)
    if request_id is not None:
        query = query.where(OutgoingMail.request_id == request_id)
    found = []
    for row in db.scalars(query):
        found.append(
            Message(
                template=row.template,
                channel=row.channel,
                to=vault.decrypt_secret(row.to_ciphertext, "outgoing_mail:to"),
                subject=row.subject,
                text=vault.decrypt_secret(row.text_ciphertext, "outgoing_mail:text")
                if row.text_ciphertext
                else "",
                html=vault.decrypt_secret(row.html_ciphertext, "outgoing_mail:html")
                if row.html_ciphertext
                else None,
            )
        )
    return found


def last_code(db: Session, vault: Vault, request_id: str, channel: str = "email") -> str:
    codes = [
        m
        for m in messages(db, vault, request_id)
        if m.template.startswith("dsr_code") and m.channel == channel
    ]
    assert codes, "no code was queued"
    match = re.search(r"\b(\d{6})\b", codes[-1].text)
    assert match is not None
    return match.group(1)


def counts(db: Session) -> dict[str, int]:
    return {
        model.__tablename__: int(db.scalar(select(func.count()).select_from(model)) or 0)
        for model in (DataRequest, RequestIdentity, VerificationCode, RequestEvent, OutgoingMail)
    }


def connect_shop(
    db: Session, vault: Vault, policy: PolicyVersion, folder: Path, *, key: str = "shop"
) -> str:
    """A small demo shop (SQLite) connected as datastore `key`, committed; returns its URL."""
    from privacyops.connectors import registry
    from privacyops.demo import shop
    from privacyops.demo.connect import declarations

    url = f"sqlite:///{(folder / 'shop.db').as_posix()}"
    shop.generate(url, customers=30)
    registry.register(
        db,
        vault,
        service.manifest_of(policy),
        key=key,
        kind="sql",
        declarations=declarations(),
        secret_values={"url": url},
        actor="test",
    )
    db.commit()
    return url
