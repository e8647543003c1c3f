"""Shared by the propagation tests: partners connected by API, by mail and by hand, a person who
opts out, and what the partners were sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.connectors import registry
from privacyops.consent import ledger
from privacyops.consent.ledger import Method
from privacyops.consent.purposes import TARGETED
from privacyops.dsr.service import manifest_of
from privacyops.models.audit import AuditEvent
from privacyops.models.consent import ConsentPropagation
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.connectors.conftest import API_TOKEN, shop_api_config
from tests.connectors.http_service import ShopService
from tests.dsr.support import Message, messages

T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)  # a Tuesday
ANN = "ann@example.com"
PARTNER_MAIL = "optouts@adpartner.example"
AD_COMPANIES = "third_party_advertising_companies"
MANUAL_STEPS = "Upload the address to the partner's suppression portal."
ACK_LINK = re.compile(r"https?://[^/\s]+(/processors/ack/[A-Za-z0-9_-]+)")


def declarations(dataset: str) -> str:
    """One collection holding an email: enough for a partner's datastore to be declared."""
    return f"""
dataset:
  - fides_key: {dataset}
    fides_meta: {{location: united_states}}
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {{primary_key: true, data_type: integer}}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email, data_type: string}}
"""


def connect(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    key: str,
    kind: str,
    *,
    config: dict[str, Any] | None = None,
    secret_values: dict[str, str] | None = None,
    recipient: str = AD_COMPANIES,
    name: str | None = None,
) -> None:
    registry.register(
        db,
        vault,
        manifest_of(policy),
        key=key,
        kind=kind,
        name=name,
        declarations=declarations(key.replace("-", "_")),
        config=config,
        secret_values=secret_values,
        recipient=recipient,
        actor="test",
    )
    db.commit()


@contextmanager
def api_partner(
    db: Session, vault: Vault, policy: PolicyVersion, key: str, recipient: str = AD_COMPANIES
) -> Iterator[ShopService]:
    """A partner with an API (the shop service), connected, that fails at once when down."""
    with ShopService(token=API_TOKEN) as service:
        config: dict[str, Any] = shop_api_config(service.url)
        config["retries"] = {"count": 0, "backoff_base_seconds": 0.1, "backoff_max_seconds": 0.1}
        connect(
            db,
            vault,
            policy,
            key,
            "http",
            config=config,
            secret_values={"shop_api_token": API_TOKEN},
            recipient=recipient,
        )
        yield service


def connect_by_mail(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    connect(
        db,
        vault,
        policy,
        "ad-mail",
        "email",
        config={"to": PARTNER_MAIL, "instructions": "Suppress in every audience."},
        name="Ad partner by mail",
    )


def connect_by_hand(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    connect(db, vault, policy, "ad-portal", "manual", config={"instructions": MANUAL_STEPS})


def opt_out(
    db: Session,
    vault: Vault,
    *,
    email: str = ANN,
    purpose: str = TARGETED,
    state: str | None = "CA",
    at: datetime = T0,
) -> list[ConsentPropagation]:
    """The person opts out on the preferences page; returns every task there is."""
    who = ledger.person_or_new(db, vault, "email", email, "email")
    ledger.record(
        db, who, purpose, False, Method.preference_page, actor="consumer", at=at, state=state
    )
    db.commit()
    return tasks(db)


def tasks(db: Session) -> list[ConsentPropagation]:
    db.expire_all()
    return list(db.scalars(select(ConsentPropagation).order_by(ConsentPropagation.id)))


def partner_mails(db: Session, vault: Vault) -> list[Message]:
    return [m for m in messages(db, vault) if m.template == "processor_instruction"]


def ack_path(mail: Message) -> str:
    found = ACK_LINK.search(mail.text)
    assert found is not None, "no acknowledgement link in the mail"
    return found.group(1)


def events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(db.scalars(query))
