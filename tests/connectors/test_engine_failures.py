"""A datastore behind an HTTP API stops mid-request (500s, a timeout, refused connections):
the request needs attention, nothing is lost, and it completes once the API is back, without
asking again what was already answered."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import registry
from privacyops.dsr import downloads, fulfilment, service
from privacyops.dsr.status import Status
from privacyops.models.connectors import CollectionTask
from privacyops.models.dsr import DataRequest
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.connectors.conftest import API_TOKEN, shop_api_config
from tests.connectors.http_service import ShopService
from tests.dsr.support import LINKS, T0, last_code, publish_example, submit

ANN = "ann.api@example.com"
DECLARATIONS = """
dataset:
  - fides_key: shop_api
    fides_meta: {location: united_states}
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: name
            data_categories: [user.name]
            fides_meta: {data_type: string}
      - name: orders
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: customer_id
            fides_meta:
              data_type: integer
              references: [{dataset: shop_api, field: customers.id, direction: from}]
          - name: total
            data_categories: [user.behavior.purchase_history]
            fides_meta: {data_type: string}
"""


@pytest.fixture
def policy(db: Session) -> PolicyVersion:
    version = publish_example(db)
    db.commit()
    return version


@pytest.fixture
def api(db: Session, vault: Vault, policy: PolicyVersion, shop_service: ShopService) -> ShopService:
    shop_service.start()
    shop_service.reset(
        {
            "customers": [
                {"id": 1, "email": ANN, "name": "Ann", "phone": "555", "segment": "retail"},
                {"id": 2, "email": "bob@example.com", "name": "Bob", "phone": "", "segment": ""},
            ],
            "orders": [
                {"id": 11, "customer_id": 1, "total": "10.50", "ship_to": "1 Main St"},
                {"id": 12, "customer_id": 1, "total": "21.00", "ship_to": "1 Main St"},
                {"id": 21, "customer_id": 2, "total": "5.00", "ship_to": "2 Main St"},
            ],
        }
    )
    config: dict[str, Any] = shop_api_config(shop_service.url)
    # No retries inside one attempt and a short timeout: the engine's back-off is what is tested.
    config["retries"] = {"count": 0, "backoff_base_seconds": 0.1, "backoff_max_seconds": 0.1}
    config["timeout_seconds"] = 1
    registry.register(
        db,
        vault,
        service.manifest_of(policy),
        key="shop-api",
        kind="http",
        declarations=DECLARATIONS,
        config=config,
        secret_values={"shop_api_token": API_TOKEN},
        actor="test",
    )
    db.commit()
    yield shop_service
    shop_service.start()


def ready(db: Session, vault: Vault, policy: PolicyVersion) -> DataRequest:
    request = submit(db, vault, policy, email=ANN)
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)
    db.commit()
    return request


def run(factory: sessionmaker[Session], vault: Vault, request_id: str, minutes: int) -> str:
    at = T0 + timedelta(minutes=minutes)
    return fulfilment.run(factory, vault, LINKS, request_id, now=lambda: at)


def tasks(db: Session, request: DataRequest) -> dict[str, CollectionTask]:
    db.expire_all()
    query = select(CollectionTask).where(CollectionTask.request_id == request.id)
    return {t.collection: t for t in db.scalars(query)}


@pytest.mark.parametrize("fault", ["http_500", "timeout"])
def test_the_api_fails_mid_request_then_the_request_completes_with_nothing_lost(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    api: ShopService,
    session_factory: sessionmaker[Session],
    fault: str,
) -> None:
    request = ready(db, vault, policy)
    # The customer is found; the API fails when the engine asks for her orders.
    api.statements.clear()
    original = api.handle

    def failing_after_first(method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        if "/orders" in target:
            if fault == "http_500":
                api.fail_next(1, 500)
            else:
                api.hang_next(1)
        return original(method, target, headers, raw)

    api.handle = failing_after_first  # type: ignore[method-assign]
    try:
        outcome = run(session_factory, vault, request.id, 0)
    finally:
        api.handle = original  # type: ignore[method-assign]
        api.start()

    found = tasks(db, request)
    assert outcome == Status.needs_attention
    # Found, saved, not asked again; done once the whole walk is.
    assert found["customers"].status == "pending"
    assert found["customers"].result == {"found": 1, "so_far": True}
    assert found["orders"].status == "failed"
    assert "shop-api" in (found["orders"].last_error or "")
    assert ANN not in (found["orders"].last_error or "")
    customer_reads = len([s for s in api.statements if "customers" in s])

    # Before the back-off has passed nothing runs; after it, the request completes.
    assert fulfilment.due_for_a_run(db, T0) == []
    assert fulfilment.due_for_a_run(db, T0 + timedelta(minutes=2)) == [request.id]
    assert run(session_factory, vault, request.id, 2) == Status.completed

    assert len([s for s in api.statements if "customers" in s]) == customer_reads
    db.expire_all()
    document = json.loads(downloads.download(db, vault, request, "json", T0, client=None)[1])
    assert sorted(o["id"] for o in document["datasets"]["shop_api"]["orders"]) == [11, 12]
    assert [c["email"] for c in document["datasets"]["shop_api"]["customers"]] == [ANN]


def test_an_api_that_refuses_connections_waits_with_its_collections_then_completes(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    api: ShopService,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy)
    api.stop()
    try:
        outcome = run(session_factory, vault, request.id, 0)
    finally:
        api.start()

    found = tasks(db, request)
    assert outcome == Status.needs_attention
    assert found["customers"].status == "failed"
    assert "shop-api" in (found["customers"].last_error or "")
    # One refused connection is enough: the datastore's other collections wait, unasked.
    assert found["orders"].status == "pending"
    assert found["orders"].attempts == 0

    assert run(session_factory, vault, request.id, 2) == Status.completed
    db.expire_all()
    document = json.loads(downloads.download(db, vault, request, "json", T0, client=None)[1])
    assert sorted(o["id"] for o in document["datasets"]["shop_api"]["orders"]) == [11, 12]
