"""How the SQL connector reads a datastore's schema: names and types in a few catalogue
statements, never following foreign keys; on SQLite, once per schema for every connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, text

from privacyops.connectors import CollectionSpec, SqlConnector
from privacyops.connectors import sql as sql_module
from tests.connectors.conftest import SQL_BACKENDS, Datastore, email_of
from tests.connectors.test_conformance import CUSTOMER, ORDER


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SQLite schema read by an earlier test: this one reads it."""
    monkeypatch.setattr(sql_module, "_SQLITE_SCHEMAS", {})


def recording(connector: SqlConnector) -> list[str]:
    connector.test_connection()  # the dialect's own first queries are not the schema's
    statements: list[str] = []
    event.listen(
        connector.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_args: statements.append(statement),
    )
    return statements


@pytest.fixture
def connector(datastore: Datastore) -> Iterator[SqlConnector]:
    opened = SqlConnector(datastore.url)
    yield opened
    opened.close()


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_the_schema_is_read_in_a_few_statements_without_following_foreign_keys(
    datastore: Datastore, connector: SqlConnector
) -> None:
    # orders refers to customers; reflecting foreign keys would read customers (and, on
    # PostgreSQL, run hundreds of catalogue queries). Names and types are all it needs.
    statements = recording(connector)

    with connector.batch([ORDER, CUSTOMER]):
        assert len(connector.retrieve(ORDER, "customer_id", [1])) == 2
        assert len(connector.retrieve(CUSTOMER, "id", [1])) == 1
    connector.retrieve(ORDER, "customer_id", [2])  # known by now: no catalogue again

    reads = [s for s in statements if "orders.customer_id IN" in s or "customers.id IN" in s]
    catalogue = [s for s in statements if s not in reads]
    assert len(reads) == 3
    # The list of tables, then the columns: of both tables at once on PostgreSQL, one table
    # at a time elsewhere (SQLite and MariaDB read them so anyway).
    assert len(catalogue) == (2 if datastore.backend == "postgresql" else 3)


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_connectors_of_one_schema_read_it_once(datastore: Datastore) -> None:
    first, second = SqlConnector(datastore.url), SqlConnector(datastore.url)
    try:
        first.retrieve(CUSTOMER, "email", [email_of(1)])
        statements = recording(second)

        rows = second.retrieve(CUSTOMER, "email", [email_of(1)])
    finally:
        first.close()
        second.close()

    assert [row["id"] for row in rows] == [1]
    # The CREATE statements (which list the tables too) tell it is the same schema.
    assert [s for s in statements if "PRAGMA" in s] == []
    assert len(statements) == 2


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_sqlite_schema_that_changed_is_read_again(datastore: Datastore) -> None:
    before = SqlConnector(datastore.url)
    before.retrieve(CUSTOMER, "id", [1])
    before.close()
    with datastore.engine.begin() as conn:
        conn.execute(text("ALTER TABLE customers ADD COLUMN loyalty_id VARCHAR(20)"))
        conn.execute(text("UPDATE customers SET loyalty_id = 'L-1' WHERE id = 1"))
    with_loyalty = CollectionSpec("customers", ("id", "loyalty_id"), ("id",))

    after = SqlConnector(datastore.url)
    try:
        rows = after.retrieve(with_loyalty, "id", [1])
    finally:
        after.close()

    assert rows == [{"id": 1, "loyalty_id": "L-1"}]
