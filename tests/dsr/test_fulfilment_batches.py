"""An erasure is one transaction per datastore: a collection that fails undoes the whole
datastore's erasure, a commit the datastore refuses leaves every collection of it to do again,
and our records never say done what the datastore did not keep."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from privacyops.dsr import fulfilment
from privacyops.dsr.status import Status
from privacyops.models.connectors import CollectionTask
from privacyops.models.dsr import DataRequest
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import T0, connect_shop
from tests.dsr.test_fulfilment import ANN, connect, ready, run, shop_rows

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
            fides_meta: {identity: email, data_type: string, masking_strategy: delete_row}
      - name: notes
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: contact_id
            fides_meta:
              data_type: integer
              references: [{dataset: crm, field: contacts.id, direction: from}]
          - name: note
            data_categories: [user.name]
            fides_meta: {data_type: string}
"""
# The note stays (masked) while its contact goes: a foreign key checked at COMMIT refuses it.
NOTES_CHECKED_AT_COMMIT = (
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT, contact_id INTEGER "
    "REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED)"
)


def erasure_tasks(db: Session, request: DataRequest) -> dict[str, CollectionTask]:
    db.expire_all()
    query = select(CollectionTask).where(
        CollectionTask.request_id == request.id, CollectionTask.phase == "erasure"
    )
    return {task.collection: task for task in db.scalars(query)}


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), {"ann": ANN})
    finally:
        engine.dispose()


def test_a_collection_that_fails_undoes_its_datastores_erasure_until_the_next_run(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    shop = connect_shop(db, vault, policy, tmp_path)
    execute(
        shop,
        "CREATE TRIGGER keep_sessions BEFORE DELETE ON web_sessions "
        "BEGIN SELECT RAISE(ABORT, 'web sessions are kept'); END",
    )
    request = ready(db, vault, policy, type="deletion")

    assert run(session_factory, vault, request.id) == Status.needs_attention

    tasks = erasure_tasks(db, request)
    assert tasks["web_sessions"].status == "failed"
    assert "web sessions are kept" in (tasks["web_sessions"].last_error or "")
    # Addresses were deleted earlier in the same transaction: rolled back with it, so they
    # are not done, and the datastore still has them.
    assert tasks["addresses"].status == "pending"
    assert tasks["addresses"].result is None
    assert not [t for t in tasks.values() if t.status == "done"]
    assert shop_rows(shop, "SELECT count(*) FROM addresses WHERE customer_id = 1") == [(2,)]
    assert shop_rows(shop, "SELECT email FROM customers WHERE id = 1") == [(ANN,)]

    execute(shop, "DROP TRIGGER keep_sessions")
    assert run(session_factory, vault, request.id, days=1) == Status.completed

    assert all(t.status == "done" for t in erasure_tasks(db, request).values())
    assert shop_rows(shop, "SELECT count(*) FROM addresses WHERE customer_id = 1") == [(0,)]
    assert shop_rows(shop, "SELECT count(*) FROM web_sessions WHERE customer_id = 1") == [(0,)]


def test_a_commit_the_datastore_refuses_leaves_every_collection_of_it_to_do(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    crm = f"sqlite:///{(tmp_path / 'crm.db').as_posix()}"
    execute(
        crm,
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)",
        NOTES_CHECKED_AT_COMMIT,
        "INSERT INTO contacts VALUES (1, :ann), (2, 'bob@example.com')",
        "INSERT INTO notes VALUES (1, 'VIP', 1)",
    )
    connect(db, vault, policy, "crm", CRM, secret_values={"url": crm})
    request = ready(db, vault, policy, type="deletion")

    assert run(session_factory, vault, request.id) == Status.needs_attention

    tasks = erasure_tasks(db, request)
    for name in ("notes", "contacts"):
        assert tasks[name].status == "failed"
        assert "commit failed: FOREIGN KEY constraint failed" in (tasks[name].last_error or "")
        assert tasks[name].result is None
    assert shop_rows(crm, "SELECT note FROM notes") == [("VIP",)]
    assert shop_rows(crm, "SELECT email FROM contacts WHERE id = 1") == [(ANN,)]

    # Fixed, then a later collection fails: the note is undone again, and its old failure
    # goes (it would otherwise bring the next run forward, past the new failure's back-off).
    execute(
        crm,
        "DROP TABLE notes",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT, contact_id INTEGER)",
        "INSERT INTO notes VALUES (1, 'VIP', 1)",
        "CREATE TRIGGER keep_contacts BEFORE DELETE ON contacts "
        "BEGIN SELECT RAISE(FAIL, 'contacts are locked'); END",
    )
    assert run(session_factory, vault, request.id, days=1) == Status.needs_attention

    tasks = erasure_tasks(db, request)
    assert (tasks["notes"].status, tasks["notes"].last_error) == ("pending", None)
    assert tasks["contacts"].status == "failed"
    assert "contacts are locked" in (tasks["contacts"].last_error or "")
    assert fulfilment.due_for_a_run(db, T0 + fulfilment.backoff(1)) == []
    assert shop_rows(crm, "SELECT note FROM notes") == [("VIP",)]

    execute(crm, "DROP TRIGGER keep_contacts")
    assert run(session_factory, vault, request.id, days=2) == Status.completed
    assert shop_rows(crm, "SELECT note, contact_id FROM notes") == [(None, 1)]
    assert shop_rows(crm, "SELECT id FROM contacts") == [(2,)]
