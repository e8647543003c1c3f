"""Issue 5's "done when", over HTTP as a new user meets it: the demo shop connected, an access
request answered in three formats through the mailed links, a deletion that masks or removes
what no law keeps, and a second access request that shows the result."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.audit.websupport import bearer
from tests.dsr.support import connect_shop
from tests.dsr.test_delivery import outbox, text_of
from tests.staff.helpers import use_fast_hashing

ANN = "ann.demo@example.com"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def shop_url(db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path) -> str:
    return connect_shop(db, vault, policy, tmp_path, key="demo-shop")


def mails_about(settings: Settings, request_id: str) -> list[str]:
    return [text_of(m) for m in outbox(settings) if request_id in str(m["Subject"])]


def ask(client: TestClient, settings: Settings, kind: str) -> str:
    created = client.post("/api/v1/requests", json={"type": kind, "state": "CA", "email": ANN})
    assert created.status_code == 201, created.text
    request_id: str = created.json()["id"]
    code = next(
        m.group(1)
        for t in mails_about(settings, request_id)
        if (m := re.search(r"code is (\d{6})", t))
    )
    verified = client.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert verified.status_code == 200, verified.text
    return request_id


def package_links(settings: Settings, request_id: str) -> dict[str, str]:
    completion = next(t for t in mails_about(settings, request_id) if "is complete" in t)
    found = re.findall(r"(/requests/R-\w+/package/(\w+)\?token=\S+)", completion)
    return {fmt: path for path, fmt in found}


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_access_then_deletion_then_access_on_the_demo_shop(
    client: TestClient, db: Session, settings: Settings, shop_url: str
) -> None:
    first = ask(client, settings, "access")
    links = package_links(settings, first)
    assert set(links) == {"html", "json", "csv"}

    as_json = client.get(links["json"])
    assert as_json.status_code == 200
    assert as_json.headers["content-disposition"].startswith("attachment;")
    assert as_json.headers["cache-control"] == "no-store"
    shop_data = as_json.json()["datasets"]["shop"]
    assert len(shop_data["orders"]) == 2
    assert len(shop_data["loyalty_members"]) == 1
    assert len(shop_data["support_tickets"]) == 1
    assert len(shop_data["store_visits"]) == 2
    with zipfile.ZipFile(io.BytesIO(client.get(links["csv"]).content)) as archive:
        assert "shop/store_visits.csv" in archive.namelist()
    page = client.get(links["html"])
    assert page.status_code == 200
    assert "Ann" in page.text
    assert "password" in page.text.lower()  # said to be held and withheld, never shown
    # A link for one format opens no other, and a tampered token opens nothing.
    json_token = links["json"].split("token=")[1]
    assert client.get(f"/requests/{first}/package/csv?token={json_token}").status_code == 404
    assert client.get(links["json"] + "x").status_code == 404

    deletion = ask(client, settings, "deletion")
    officer = bearer(db, "privacy_officer")
    approved = client.post(f"/api/v1/admin/requests/{deletion}/approve", headers=officer)
    assert approved.status_code == 200, approved.text
    shown = client.get(f"/api/v1/admin/requests/{deletion}", headers=officer).json()
    assert shown["status"] == "completed"
    erased = {
        t["collection"]: t["result"] for t in shown["datastore_tasks"] if t["phase"] == "erasure"
    }
    assert "total_cents" in erased["orders"]["text"]
    assert "Tax and accounting records" in erased["orders"]["text"]
    assert rows(shop_url, f"SELECT count(*) FROM customers WHERE email = '{ANN}'") == [(0,)]
    assert rows(shop_url, "SELECT count(*) FROM orders WHERE customer_id = 1") == [(2,)]
    assert rows(shop_url, "SELECT count(*) FROM store_visits") < [(1000,)]
    # The earlier package was encrypted under the erased person's key: it is gone with it.
    assert client.get(links["json"]).status_code == 404

    again = ask(client, settings, "access")
    after = client.get(package_links(settings, again)["json"]).json()
    assert after["nothing_found"] is True
    assert "ann" not in json.dumps(after).lower()
