"""The console's view of the engine: each collection's step and result, retrying a failed
datastore, and mapping a correction to correctable fields, through the running app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from privacyops.connectors import registry
from privacyops.dsr import service
from privacyops.models.dsr import DataRequest
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.vault.service import Vault
from tests.audit.websupport import log_in_as
from tests.dsr.support import connect_shop, last_code, submit
from tests.dsr.test_console import post
from tests.dsr.test_fulfilment import CRM
from tests.staff.helpers import use_fast_hashing

ANN = "ann.demo@example.com"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def shop_url(db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path) -> str:
    return connect_shop(db, vault, policy, tmp_path)


def verified(db: Session, vault: Vault, policy: PolicyVersion, **overrides: object) -> DataRequest:
    request = submit(db, vault, policy, email=ANN, at=utcnow(), **overrides)  # type: ignore[arg-type]
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=utcnow())
    db.commit()
    return request


def status_of(db: Session, request: DataRequest) -> str:
    db.expire_all()
    found = db.get_one(DataRequest, request.id)
    return found.status


def test_a_correction_mapped_in_the_console_is_applied_in_the_shop(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, shop_url: str
) -> None:
    request = verified(
        db, vault, policy, type="correction", corrections=[{"field": "surname", "value": "Smith"}]
    )
    token = log_in_as(client, db, "privacy_officer")

    approved = post(client, f"/admin/requests/{request.id}/approve", token)
    page = client.get(f"/admin/requests/{request.id}").text

    assert approved.status_code == 303
    assert status_of(db, request) == "in_progress"
    assert "Datastores" in page
    assert "shop.customers" in page
    assert "found 1 row(s)" in page
    assert '<option value="shop.customers.last_name"' in page
    assert 'value="shop.orders.total_cents"' not in page  # amounts are not correctable

    refused = post(
        client,
        f"/admin/requests/{request.id}/corrections",
        token,
        target_0="shop.orders.total_cents",
        value_0="0",
    )
    assert refused.status_code == 422
    mapped = post(
        client,
        f"/admin/requests/{request.id}/corrections",
        token,
        target_0="shop.customers.last_name",
        value_0="Smith",
    )

    assert mapped.status_code == 303
    assert status_of(db, request) == "completed"
    engine = create_engine(shop_url)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT last_name FROM customers WHERE id = 1")).scalar() == "Smith"
        )
    engine.dispose()
    assert (
        "changed 1 row(s): shop.customers.last_name"
        in client.get(f"/admin/requests/{request.id}").text
    )


def test_a_failed_datastore_is_shown_and_retried_from_the_console(
    client: TestClient,
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    shop_url: str,
    tmp_path: Path,
) -> None:
    manifest = service.manifest_of(policy)
    missing = f"sqlite:///{(tmp_path / 'crm.db').as_posix()}"
    registry.register(
        db,
        vault,
        manifest,
        key="crm",
        kind="sql",
        declarations=CRM,
        secret_values={"url": missing},
        actor="test",
    )
    db.commit()
    token = log_in_as(client, db, "privacy_officer")
    # Verified through the API, so the engine starts after the commit, as in production.
    request = submit(db, vault, policy, email=ANN, at=utcnow())
    db.commit()
    code = last_code(db, vault, request.id)
    assert (
        client.post(f"/api/v1/requests/{request.id}/verify", json={"code": code}).status_code == 200
    )

    assert status_of(db, request) == "needs_attention"
    page = client.get(f"/admin/requests/{request.id}").text
    assert "crm: the database file does not exist" in page
    assert "Retry the failed datastores now" in page

    engine = create_engine(missing)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, note TEXT)"))
    engine.dispose()
    retried = post(client, f"/admin/requests/{request.id}/retry", token)

    assert retried.status_code == 303
    assert status_of(db, request) == "completed"
