"""Fulfilment end to end on the demo shop: access packages, erasure, failures and resumption.

The shop is a real SQLite file; a second datastore on PostgreSQL at a refused port plays the
datastore that is down, then comes back.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import registry
from privacyops.dsr import corrections, downloads, fulfilment, jobs, service, workflow
from privacyops.dsr.downloads import PackageLinks
from privacyops.dsr.status import InvalidTransition, Status
from privacyops.errors import InvalidInput
from privacyops.models.audit import AuditEvent
from privacyops.models.connectors import AccessPackage, CollectionTask
from privacyops.models.dsr import DataRequest, RequestEvent
from privacyops.models.identity import DataSubject
from privacyops.models.policy import PolicyVersion
from privacyops.retention import holds
from privacyops.vault.service import Vault
from tests.dsr.support import LINKS, T0, connect_shop, last_code, messages, submit

ANN = "ann.demo@example.com"
STAFF = "staff:1"
CRM = """
dataset:
  - fides_key: crm
    fides_meta: {location: united_states}
    collections:
      - name: contacts
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string, masking_strategy: "null"}
          - name: note
            data_categories: [user.name]
            fides_meta: {data_type: string}
"""


@pytest.fixture
def connected(db: Session, vault: Vault, policy: PolicyVersion, tmp_path: Path) -> str:
    return connect_shop(db, vault, policy, tmp_path)


def connect(
    db: Session, vault: Vault, policy: PolicyVersion, key: str, declared: str, **settings: Any
) -> None:
    """Another datastore beside the shop (`kind` sql unless given), committed."""
    registry.register(
        db,
        vault,
        service.manifest_of(policy),
        key=key,
        kind=settings.pop("kind", "sql"),
        declarations=declared,
        actor="test",
        **settings,
    )
    db.commit()


def ready(db: Session, vault: Vault, policy: PolicyVersion, **overrides: object) -> DataRequest:
    request = submit(db, vault, policy, email=ANN, **overrides)  # type: ignore[arg-type]
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)
    if request.status == Status.awaiting_review:
        workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)
    db.commit()
    assert request.status == Status.in_progress
    return request


def run(factory: sessionmaker[Session], vault: Vault, request_id: str, days: int = 0) -> str:
    return fulfilment.run(factory, vault, LINKS, request_id, now=lambda: T0 + timedelta(days=days))


def package(db: Session, vault: Vault, request: DataRequest, fmt: str) -> bytes:
    return downloads.download(db, vault, request, fmt, T0, client=None)[1]


def shop_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_access_request_returns_the_customers_data_in_three_formats(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy)

    assert run(session_factory, vault, request.id) == Status.completed

    document = json.loads(package(db, vault, request, "json"))
    shop_data = document["datasets"]["shop"]
    assert [row["email"] for row in shop_data["customers"]] == [ANN]
    assert len(shop_data["orders"]) == 2
    assert len(shop_data["order_items"]) == 3
    assert len(shop_data["loyalty_members"]) == 1
    assert len(shop_data["support_tickets"]) == 1
    assert len(shop_data["store_visits"]) == 2
    assert "password_hash" not in json.dumps(shop_data)
    with zipfile.ZipFile(io.BytesIO(package(db, vault, request, "csv"))) as archive:
        assert "shop/orders.csv" in archive.namelist()
    html = package(db, vault, request, "html").decode()
    assert "Ann" in html
    completion = messages(db, vault, request.id)[-1]
    assert completion.template == "dsr_completion"
    assert f"/requests/{request.id}/package/json?token=" in completion.text
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"datastore.searched", "package.created", "package.downloaded"} <= actions


def test_a_package_link_is_bound_to_its_request_and_format(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy)
    run(session_factory, vault, request.id)
    links = PackageLinks(LINKS.secret_key, LINKS.public_url)
    token = links.url(request.id, "json").split("token=")[1]
    from urllib.parse import unquote

    token = unquote(token)
    assert links.check(request.id, "json", token, 30)
    assert not links.check(request.id, "csv", token, 30)
    assert not links.check("R-OTHER00000", "json", token, 30)
    assert not links.check(request.id, "json", token + "x", 30)


def test_expired_packages_are_erased_and_no_longer_downloadable(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy)
    run(session_factory, vault, request.id)

    assert downloads.erase_expired(db, T0 + timedelta(days=31)) == 3
    assert downloads.erase_expired(db, T0 + timedelta(days=32)) == 0

    stored = db.scalars(select(AccessPackage).where(AccessPackage.request_id == request.id)).all()
    assert all(p.content_ciphertext is None and p.deleted_at is not None for p in stored)
    with pytest.raises(Exception, match="expired"):
        downloads.download(db, vault, request, "json", T0, client=None)


def test_a_datastore_that_is_down_puts_the_request_in_needs_attention_then_it_resumes(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    refused = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    connect(db, vault, policy, "crm", CRM, secret_values={"url": refused})
    request = ready(db, vault, policy)

    assert run(session_factory, vault, request.id) == Status.needs_attention

    tasks = {
        t.collection: t
        for t in db.scalars(select(CollectionTask).where(CollectionTask.request_id == request.id))
    }
    assert tasks["contacts"].status == "failed"
    assert tasks["contacts"].attempts == 1
    assert "crm" in (tasks["contacts"].last_error or "")
    assert tasks["customers"].status == "pending"
    assert tasks["customers"].result == {"found": 1, "so_far": True}
    assert fulfilment.due_for_a_run(db, T0) == []
    assert fulfilment.due_for_a_run(db, T0 + timedelta(minutes=2)) == [request.id]
    # Still down at the next attempt: a second failure, a longer back-off, nothing lost.
    assert run(session_factory, vault, request.id, days=0) == Status.needs_attention
    db.expire_all()
    assert db.get_one(CollectionTask, tasks["contacts"].id).attempts == 2

    # The datastore is back (here: moved to a reachable database).
    crm_url = f"sqlite:///{(tmp_path / 'crm.db').as_posix()}"
    engine = create_engine(crm_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, note TEXT)"))
        conn.execute(
            text("INSERT INTO contacts VALUES (1, :e, 'VIP'), (2, 'x@example.com', '')"), {"e": ANN}
        )
    engine.dispose()
    connect(db, vault, policy, "crm", CRM, secret_values={"url": crm_url})
    # The shop answered already: with its file gone, asking it again would fail.
    Path(connected.split("///", 1)[1]).rename(tmp_path / "shop-moved.db")

    assert run(session_factory, vault, request.id, days=1) == Status.completed

    document = json.loads(package(db, vault, request, "json"))
    assert document["datasets"]["crm"]["contacts"][0]["email"] == ANN
    assert len(document["datasets"]["shop"]["orders"]) == 2
    statuses = [
        e.to_status
        for e in db.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .order_by(RequestEvent.id)
        )
        if e.to_status
    ]
    assert statuses[-3:] == ["needs_attention", "in_progress", "completed"]
    assert statuses.count("completed") == 1


def test_a_request_is_not_completed_by_staff_while_datastore_work_is_open(
    db: Session, vault: Vault, policy: PolicyVersion, connected: str
) -> None:
    request = ready(db, vault, policy)

    with pytest.raises(Exception, match="pending"):
        workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)

    assert fulfilment.unfinished(db, request) == ["datastores (not searched yet)"]


def test_deletion_masks_deletes_keeps_what_the_law_requires_and_shreds(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy, type="deletion")
    subject_id = request.subject_id

    outcome = run(session_factory, vault, request.id)
    errors = [t.last_error for t in db.scalars(select(CollectionTask)) if t.last_error]
    assert (outcome, errors) == (Status.completed, [])

    assert shop_rows(
        connected, "SELECT count(*) FROM customers WHERE email = 'ann.demo@example.com'"
    ) == [(0,)]
    assert shop_rows(connected, "SELECT count(*) FROM addresses WHERE customer_id = 1") == [(0,)]
    # Orders stay for tax and accounting, amounts included; the customer they point to is masked.
    orders = shop_rows(connected, "SELECT total_cents FROM orders WHERE customer_id = 1")
    assert len(orders) == 2
    assert all(total for (total,) in orders)
    first = shop_rows(connected, "SELECT first_name, email FROM customers WHERE id = 1")[0]
    assert first[0] != "Ann"
    assert first[1] != ANN
    tasks = db.scalars(
        select(CollectionTask).where(
            CollectionTask.request_id == request.id, CollectionTask.phase == "erasure"
        )
    ).all()
    assert all(t.status == "done" for t in tasks)
    db.expire_all()
    assert db.get_one(DataSubject, subject_id).shredded_at is not None
    assert not vault.has_subject_key(subject_id)

    # Running it again changes nothing more (the request is closed; the rows stay as they are).
    before = shop_rows(connected, "SELECT * FROM customers WHERE id = 1")
    assert run(session_factory, vault, request.id) == Status.completed
    assert shop_rows(connected, "SELECT * FROM customers WHERE id = 1") == before

    # A new access request by the same address finds nothing that names her any more.
    again = ready(db, vault, policy)
    assert again.subject_id != subject_id
    assert run(session_factory, vault, again.id) == Status.completed
    document = json.loads(package(db, vault, again, "json"))
    assert document["datasets"].get("shop", {}).get("customers", []) == []


def test_a_legal_hold_blocks_erasure(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy, type="deletion")
    hold = holds.place(db, vault, ANN, "litigation 2026-17", actor=STAFF)
    db.commit()

    assert run(session_factory, vault, request.id) == Status.completed

    assert shop_rows(connected, "SELECT email FROM customers WHERE id = 1") == [(ANN,)]
    assert vault.has_subject_key(request.subject_id)
    erasure = db.scalars(
        select(CollectionTask).where(
            CollectionTask.request_id == request.id, CollectionTask.phase == "erasure"
        )
    ).all()
    assert any("legal hold: litigation 2026-17" in json.dumps(t.result) for t in erasure)
    assert holds.reason_for(db, request.subject_id) == "litigation 2026-17"
    holds.release(db, vault, hold.id, actor=STAFF)
    assert holds.reason_for(db, request.subject_id) is None
    assert holds.active(db) == []


def test_a_correction_is_applied_where_the_field_is_correctable_after_staff_map_it(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(
        db, vault, policy, type="correction", corrections=[{"field": "surname", "value": "Smith"}]
    )
    assert run(session_factory, vault, request.id) == Status.in_progress
    assert fulfilment.unfinished(db, request) == [
        "corrections (staff map them to correctable fields first)"
    ]
    with pytest.raises(InvalidInput, match=r"changes\[0\].target"):
        corrections.set_changes(
            db, vault, request.id, [("shop.orders.total_cents", "0")], actor=STAFF, now=T0
        )

    corrections.set_changes(
        db, vault, request.id, [("shop.customers.last_name", "Smith")], actor=STAFF, now=T0
    )
    db.commit()

    assert run(session_factory, vault, request.id) == Status.completed
    assert shop_rows(connected, "SELECT last_name FROM customers WHERE id = 1") == [("Smith",)]
    task = db.scalars(
        select(CollectionTask).where(
            CollectionTask.request_id == request.id,
            CollectionTask.phase == "correction",
            CollectionTask.collection == "customers",
        )
    ).one()
    assert task.result == {"changed": 1, "fields": ["shop.customers.last_name"]}
    kept = json.loads(
        vault.decrypt_for_subject(
            request.subject_id,
            task.state_ciphertext or "",
            f"dsr_collection_tasks:{request.id}:correction:shop:customers",
        )
    )
    assert kept == [{"target": "shop.customers.last_name", "key": 1, "old": "Demo", "new": "Smith"}]


MANUAL = """
dataset:
  - fides_key: cctv
    fides_meta: {location: united_states}
    collections:
      - name: clips
        fields:
          - name: clip_id
            fides_meta: {primary_key: true}
          - name: customer_email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
"""


def test_a_manual_datastore_becomes_a_staff_task_and_the_request_completes_after_it(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    connect(
        db,
        vault,
        policy,
        "cctv-archive",
        MANUAL,
        kind="manual",
        config={"instructions": "Search the tape index by email."},
    )
    request = ready(db, vault, policy)

    assert run(session_factory, vault, request.id) == Status.in_progress
    staff_tasks = workflow.pending_manual(db, request)
    assert [t.name for t in staff_tasks] == ["access: cctv-archive/clips"]
    assert run(session_factory, vault, request.id) == Status.in_progress
    assert len(workflow.pending_manual(db, request)) == 1  # asked once, not once per run

    workflow.task_done(
        db, vault, request.id, staff_tasks[0].id, "No clips found.", actor=STAFF, now=T0
    )
    db.commit()

    assert run(session_factory, vault, request.id) == Status.completed
    assert len(json.loads(package(db, vault, request, "json"))["datasets"]["shop"]["orders"]) == 2


def test_staff_can_retry_a_failed_datastore_at_once(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    connect(db, vault, policy, "crm", CRM, secret_values={"url": "sqlite:////nonexistent/crm.db"})
    request = ready(db, vault, policy)
    assert run(session_factory, vault, request.id) == Status.needs_attention
    assert fulfilment.due_for_a_run(db, T0) == []

    db.expire_all()

    fulfilment.retry_now(db, vault, request.id, actor=STAFF, now=T0)

    assert fulfilment.due_for_a_run(db, T0) == [request.id]
    assert run(session_factory, vault, request.id) == Status.needs_attention
    other = ready(db, vault, policy)
    with pytest.raises(InvalidTransition, match="cannot retry: the request is in_progress"):
        fulfilment.retry_now(db, vault, other.id, actor=STAFF, now=T0)


def test_purging_an_old_request_removes_its_datastore_tasks_and_packages(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    connected: str,
    session_factory: sessionmaker[Session],
) -> None:
    request = ready(db, vault, policy)
    run(session_factory, vault, request.id)
    db.expire_all()

    assert jobs.purge_old_records(db, T0 + timedelta(days=800)) == 1

    assert db.scalars(select(CollectionTask)).all() == []
    assert db.scalars(select(AccessPackage)).all() == []
