"""A request's mail leaves once the request is committed: receipt and code reach the outbox."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.models.dsr import OutgoingMail
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from tests.dsr.support import EMAIL


def outbox(settings: Settings) -> list[EmailMessage]:
    found = []
    for path in sorted(settings.outbox_dir.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_submitting_a_request_delivers_the_receipt_and_the_code(
    client: TestClient, db: Session, settings: Settings, policy: PolicyVersion
) -> None:
    response = client.post(
        "/api/v1/requests", json={"type": "access", "state": "CA", "email": EMAIL}
    )
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    mails = outbox(settings)
    assert {m["To"] for m in mails} == {EMAIL}
    texts = [text_of(m) for m in mails]
    assert any(request_id in t for t in texts)
    codes = [re.search(r"\b\d{6}\b", t) for t in texts]
    assert any(codes), "the verification code reached the outbox"
    rows = db.scalars(select(OutgoingMail)).all()
    assert {row.status for row in rows} == {"sent"}


def test_a_refused_request_sends_nothing(
    client: TestClient, settings: Settings, policy: PolicyVersion
) -> None:
    response = client.post(
        "/api/v1/requests",
        json={
            "type": "correction",
            "state": "IA",
            "email": EMAIL,
            "corrections": [{"field": "name", "value": "Ann"}],
        },
    )
    assert response.status_code == 422
    assert outbox(settings) == []
