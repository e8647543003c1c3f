"""The email-to-a-processor connector and its acknowledgement page, on the real outbox, audit
log and database: one mail per instruction, waiting until the processor presses the button."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import Connector, ConnectorError
from privacyops.connectors.email import (
    AckLinks,
    AwaitingProcessor,
    EmailProcessorConnector,
)
from privacyops.connectors.pages import router
from privacyops.connectors.port import CollectionSpec
from privacyops.models.audit import AuditEvent
from privacyops.models.connectors import ProcessorInstruction
from privacyops.models.dsr import DataRequest, OutgoingMail
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.dsr.support import Message, messages, publish_example, submit

PROCESSOR = "lists@mailtool.example"
PHONE = "+12125550123"
SUBSCRIBERS = CollectionSpec("subscribers", ("id", "email", "phone"), ("id",))
RECEIVED = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday, the day after Thanksgiving
MakeConnector = Callable[..., EmailProcessorConnector]
LINK = re.compile(r"https?://[^/\s]+(/processors/ack/([A-Za-z0-9_-]+))")


@pytest.fixture
def policy(db: Session) -> PolicyVersion:
    version = publish_example(db)
    db.commit()
    return version


@pytest.fixture
def request_row(db: Session, vault: Vault, policy: PolicyVersion) -> DataRequest:
    found = submit(db, vault, policy, at=RECEIVED, type="deletion", phone=PHONE)
    db.commit()
    return found


@pytest.fixture
def links(settings: Settings) -> AckLinks:
    return AckLinks.from_settings(settings)


@pytest.fixture
def make_connector(
    session_factory: sessionmaker[Session],
    vault: Vault,
    links: AckLinks,
    request_row: DataRequest,
) -> MakeConnector:
    def make(**overrides: Any) -> EmailProcessorConnector:
        options: dict[str, Any] = {
            "request_id": request_row.id,
            "identities": {"email": "ann.requester@example.com", "phone": PHONE},
            "session_factory": session_factory,
            "vault": vault,
            "links": links,
            "instructions": "Remove the person from every list.",
            "label": "Mailing tool",
        }
        options.update(overrides)
        return EmailProcessorConnector("mailtool", PROCESSOR, **options)

    return make


@pytest.fixture
def ack_client(app: FastAPI) -> Iterator[TestClient]:
    """The app with the acknowledgement routes (mounted here too until app.py includes them)."""
    paths = {route.path for route in app.routes if isinstance(route, APIRoute)}
    if "/processors/ack/{token}" not in paths:
        app.include_router(router)
    with TestClient(app) as client:
        yield client


def instructions(db: Session) -> list[ProcessorInstruction]:
    db.expire_all()
    return list(db.scalars(select(ProcessorInstruction).order_by(ProcessorInstruction.id)))


def processor_mails(db: Session, vault: Vault) -> list[Message]:
    return [m for m in messages(db, vault) if m.template == "processor_instruction"]


def audit(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def ack_path(mail: Message) -> str:
    found = LINK.search(mail.text)
    assert found is not None, "no acknowledgement link in the mail"
    return found.group(1)


# -- the connector -------------------------------------------------------------------------------


def test_first_erasure_call_mails_one_instruction_and_waits(
    db: Session, vault: Vault, make_connector: MakeConnector, request_row: DataRequest
) -> None:
    connector = make_connector()
    assert isinstance(connector, Connector)
    connector.test_connection()

    with pytest.raises(AwaitingProcessor) as waiting:
        connector.delete(SUBSCRIBERS, "id", [7])

    assert waiting.value.datastore == "mailtool"
    assert waiting.value.operation == "erase"
    assert waiting.value.collection == "subscribers"
    assert "ann.requester" not in str(waiting.value)
    assert PHONE not in str(waiting.value)
    (mail,) = processor_mails(db, vault)
    assert mail.to == PROCESSOR
    assert mail.channel == "email"
    assert request_row.id in mail.subject
    assert "ann.requester" not in mail.subject  # stored in clear with the queued row
    for text in (mail.text, mail.html or ""):
        assert "ann.requester@example.com" in text
        assert PHONE in text
        assert "subscribers" in text
        assert "Remove the person from every list." in text
        assert "/processors/ack/" in text
    assert "Delete the personal information you hold about this person" in mail.text
    # The request is due 45 days after receipt (January 11, 2027, in California).
    assert "Please complete this by January 11, 2027" in mail.text
    assert "1798.105(c)(1)" in mail.text
    (row,) = instructions(db)
    assert (row.request_id, row.datastore, row.operation, row.collection) == (
        request_row.id,
        "mailtool",
        "erase",
        "subscribers",
    )
    assert row.acknowledged_at is None
    token = LINK.search(mail.text).group(2)  # type: ignore[union-attr]
    assert row.token_hmac != token
    assert token not in row.token_hmac
    (event,) = audit(db, "processor.instructed")
    assert event.target == "datastore:mailtool"
    assert event.subject == vault.subject_hash(request_row.subject_id)
    assert event.details == {
        "instruction": row.id,
        "request": request_row.id,
        "operation": "erase",
        "collection": "subscribers",
    }


def test_later_calls_send_nothing_more_until_acknowledged(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])

    # A later run (a new connector, as the engine opens one per run); mask is the same erasure.
    again = make_connector()
    calls: list[Callable[[], int]] = [
        lambda: again.delete(SUBSCRIBERS, "id", [7]),
        lambda: again.mask(SUBSCRIBERS, "id", {7: {"email": None}}),
    ]
    for call in calls:
        with pytest.raises(AwaitingProcessor):
            call()

    assert len(processor_mails(db, vault)) == 1
    assert len(instructions(db)) == 1
    assert len(audit(db, "processor.instructed")) == 1


def test_each_collection_and_each_opt_out_kind_is_its_own_instruction(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    orders = CollectionSpec("campaign_clicks", ("id", "email"), ("id",))
    for call in (
        lambda: connector.delete(SUBSCRIBERS, "id", []),
        lambda: connector.delete(orders, "id", []),
        lambda: connector.apply_opt_out("sale", {}),
        lambda: connector.apply_opt_out("sharing", {}),
    ):
        with pytest.raises(AwaitingProcessor):
            call()

    assert [(row.operation, row.collection) for row in instructions(db)] == [
        ("erase", "subscribers"),
        ("erase", "campaign_clicks"),
        ("opt_out:sale", ""),
        ("opt_out:sharing", ""),
    ]
    assert len(processor_mails(db, vault)) == 4
    assert len({row.token_hmac for row in instructions(db)}) == 4


def test_an_opt_out_is_due_within_15_business_days(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    with pytest.raises(AwaitingProcessor) as waiting:
        make_connector().apply_opt_out("sale", {"device_id": "dev-42"})

    assert waiting.value.operation == "opt_out:sale"
    assert waiting.value.collection is None
    (mail,) = processor_mails(db, vault)
    assert "Stop selling this person's personal information." in mail.text
    # Received Friday November 27, 2026: 15 business days (Christmas skipped) is December 18.
    assert "Please complete this by December 18, 2026" in mail.text
    assert "11 CCR 7026(f)" in mail.text
    assert "dev-42" in mail.text  # the identities the call adds to the constructor's
    assert "ann.requester@example.com" in mail.text
    assert "Opt-out instruction (sale)" in mail.subject


def test_a_correction_lists_the_new_values(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().correct(SUBSCRIBERS, "id", 7, {"phone": "+12125550199"})

    (mail,) = processor_mails(db, vault)
    assert "phone: +12125550199" in mail.text
    assert "11 CCR 7023(c)" in mail.text
    assert instructions(db)[0].operation == "correct"


def test_retrieve_finds_nothing_and_mails_nothing(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    assert make_connector().retrieve(SUBSCRIBERS, "email", ["ann.requester@example.com"]) == []
    assert processor_mails(db, vault) == []
    assert instructions(db) == []


def test_bad_settings_are_refused_naming_the_field(
    db: Session, make_connector: MakeConnector
) -> None:
    with pytest.raises(ConnectorError, match=r"config\.to") as bad_address:
        EmailProcessorConnector(
            "mailtool",
            "not an address",
            request_id="R-X",
            identities={},
            session_factory=make_connector().session_factory,
            vault=make_connector().vault,
            links=AckLinks("k", "http://x"),
        )
    assert bad_address.value.datastore == "mailtool"
    assert not bad_address.value.retryable
    with pytest.raises(ConnectorError, match="opt-out kind"):
        make_connector().apply_opt_out("Sale; DROP", {})
    with pytest.raises(ConnectorError, match="no identity"):
        make_connector(identities={}).delete(SUBSCRIBERS, "id", [])
    assert instructions(db) == []


def test_a_racing_worker_does_not_mail_twice(
    db: Session, vault: Vault, make_connector: MakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])
    # The second worker looked before the first committed: it saw no instruction.
    monkeypatch.setattr(EmailProcessorConnector, "_existing", lambda self, ask: None)

    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])

    assert len(processor_mails(db, vault)) == 1
    assert len(instructions(db)) == 1
    assert len(audit(db, "processor.instructed")) == 1


# -- the acknowledgement page --------------------------------------------------------------------


def test_opening_the_link_changes_nothing_and_the_button_acknowledges(
    db: Session,
    vault: Vault,
    make_connector: MakeConnector,
    ack_client: TestClient,
    request_row: DataRequest,
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])
    path = ack_path(processor_mails(db, vault)[0])

    page = ack_client.get(path)
    ack_client.get(path)  # a mail scanner opens it too

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert request_row.id in page.text
    assert "subscribers" in page.text
    assert f'action="{path}"' in page.text
    assert 'method="post"' in page.text
    assert "ann.requester" not in page.text
    assert PHONE not in page.text
    assert "set-cookie" not in page.headers
    assert instructions(db)[0].acknowledged_at is None
    assert audit(db, "processor.acknowledged") == []
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])

    done = ack_client.post(path)

    assert done.status_code == 200
    assert "Thank you" in done.text
    assert done.headers["cache-control"] == "no-store"
    (row,) = instructions(db)
    assert row.acknowledged_at is not None
    (event,) = audit(db, "processor.acknowledged")
    assert event.actor == "processor:mailtool"
    assert event.subject == vault.subject_hash(request_row.subject_id)
    assert event.details["instruction"] == row.id
    # The step is done: the engine's next call returns normally, and mails nothing.
    connector = make_connector()
    assert connector.delete(SUBSCRIBERS, "id", [7]) == 0
    assert connector.mask(SUBSCRIBERS, "id", {7: {"email": None}}) == 0
    assert len(processor_mails(db, vault)) == 1


def test_a_second_press_says_already_acknowledged(
    db: Session, vault: Vault, make_connector: MakeConnector, ack_client: TestClient
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().apply_opt_out("sale", {})
    path = ack_path(processor_mails(db, vault)[0])
    assert ack_client.post(path).status_code == 200
    first = instructions(db)[0].acknowledged_at

    again = ack_client.post(path)
    page = ack_client.get(path)

    assert again.status_code == 200
    assert "Already confirmed" in again.text
    assert "already confirmed" in page.text
    assert "<form" not in page.text
    assert instructions(db)[0].acknowledged_at == first
    assert len(audit(db, "processor.acknowledged")) == 1
    make_connector().apply_opt_out("sale", {})  # returns: the opt-out is done


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_or_unknown_link_is_a_404_that_reveals_nothing(
    db: Session, vault: Vault, make_connector: MakeConnector, ack_client: TestClient, method: str
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])
    path = ack_path(processor_mails(db, vault)[0])
    token = path.rsplit("/", 1)[1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    answers = [
        ack_client.request(method, f"/processors/ack/{value}")
        for value in (tampered, "x" * 43, "short", "a" * 300)
    ]

    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.text for answer in answers}) == 1
    assert "R-" not in answers[0].text
    assert "subscribers" not in answers[0].text
    assert instructions(db)[0].acknowledged_at is None
    assert audit(db, "processor.acknowledged") == []


def test_the_pages_are_rate_limited(
    app: FastAPI, settings: Settings, ack_client: TestClient
) -> None:
    app.state.settings = settings.model_copy(update={"rate_limit_public": "2/minute"})

    answers = [ack_client.get("/processors/ack/" + "x" * 43).status_code for _ in range(3)]

    assert answers == [404, 404, 429]


def test_the_queued_mail_is_encrypted_and_holds_no_token_in_clear(
    db: Session, vault: Vault, make_connector: MakeConnector
) -> None:
    with pytest.raises(AwaitingProcessor):
        make_connector().delete(SUBSCRIBERS, "id", [7])
    token = ack_path(processor_mails(db, vault)[0]).rsplit("/", 1)[1]

    (row,) = db.scalars(
        select(OutgoingMail).where(OutgoingMail.template == "processor_instruction")
    )

    for stored in (row.to_ciphertext, row.text_ciphertext or "", row.html_ciphertext or ""):
        assert token not in stored
        assert "ann.requester" not in stored
        assert PROCESSOR not in stored
