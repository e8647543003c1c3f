"""Opt-outs passed on to the policy's advertising and marketing partners through their
connectors: due in 15 business days, retried after a failure, done once, audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import registry
from privacyops.consent import ledger, propagation
from privacyops.consent.ledger import Method
from privacyops.consent.purposes import EMAIL, TARGETED
from privacyops.dsr.service import manifest_of
from privacyops.models.audit import AuditEvent
from privacyops.models.consent import ConsentPropagation
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.connectors.conftest import API_TOKEN, shop_api_config
from tests.connectors.http_service import ShopService
from tests.dsr.support import publish_example

T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)  # a Tuesday
DECLARATIONS = """
dataset:
  - fides_key: ad_partner
    fides_meta: {location: united_states}
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
"""


@pytest.fixture
def policy(db: Session) -> PolicyVersion:
    version = publish_example(db)
    db.commit()
    return version


@pytest.fixture
def partner(db: Session, vault: Vault, policy: PolicyVersion) -> Iterator[ShopService]:
    with ShopService(token=API_TOKEN) as service:
        config: dict[str, Any] = shop_api_config(service.url)
        config["retries"] = {"count": 0, "backoff_base_seconds": 0.1, "backoff_max_seconds": 0.1}
        registry.register(
            db,
            vault,
            manifest_of(policy),
            key="ad-partner",
            kind="http",
            declarations=DECLARATIONS,
            config=config,
            secret_values={"shop_api_token": API_TOKEN},
            recipient="third_party_advertising_companies",
            actor="test",
        )
        db.commit()
        yield service


def test_the_partners_are_those_that_buy_share_or_market(policy: PolicyVersion) -> None:
    found = propagation.partners(manifest_of(policy))

    assert {"marketing_advertising_partners", "third_party_advertising_companies"} <= found
    assert "tax_authorities" not in found
    assert "payment_provider" not in found


def test_an_opt_out_reaches_the_partner_once_and_is_audited(
    db: Session,
    vault: Vault,
    partner: ShopService,
    session_factory: sessionmaker[Session],
    policy: PolicyVersion,
) -> None:
    ann = ledger.person_or_new(db, vault, "email", "ann@example.com", "email")
    ledger.record(db, ann, EMAIL, False, Method.api, actor="test", at=T0)  # not a partner matter
    ledger.record(
        db, ann, TARGETED, False, Method.preference_page, actor="consumer", at=T0, state="CA"
    )
    db.commit()

    tasks = db.scalars(select(ConsentPropagation)).all()
    assert sorted(t.kind for t in tasks) == ["sharing", "targeted_advertising"]
    # 15 business days from Tuesday 1 December 2026 (weekends skipped).
    assert {t.due_on for t in tasks} == {date(2026, 12, 22)}

    assert propagation.run_due(session_factory, vault, T0) == 2
    assert propagation.run_due(session_factory, vault, T0) == 0

    assert [o["kind"] for o in partner.opt_outs] == ["sharing", "targeted_advertising"]
    assert {o["email"] for o in partner.opt_outs} == {"ann@example.com"}
    db.expire_all()
    assert {t.status for t in db.scalars(select(ConsentPropagation))} == {"done"}
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "consent.propagated"))
    assert len(audited.all()) == 2


def test_a_partner_that_is_down_is_retried_after_its_back_off(
    db: Session,
    vault: Vault,
    partner: ShopService,
    session_factory: sessionmaker[Session],
    policy: PolicyVersion,
) -> None:
    ann = ledger.person_or_new(db, vault, "email", "ann@example.com", "email")
    ledger.record(db, ann, TARGETED, False, Method.banner, actor="consumer", at=T0)
    db.commit()
    partner.stop()

    assert propagation.run_due(session_factory, vault, T0) == 0
    db.expire_all()
    failed = db.scalars(select(ConsentPropagation)).all()
    assert {(t.status, t.attempts) for t in failed} == {("failed", 1)}
    assert all("ad-partner" in (t.last_error or "") for t in failed)

    partner.start()
    assert propagation.run_due(session_factory, vault, T0 + timedelta(seconds=30)) == 0
    assert propagation.run_due(session_factory, vault, T0 + timedelta(minutes=2)) == 2
    assert len(partner.opt_outs) == 2
