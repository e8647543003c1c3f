"""The optional `batch()` of the port, on every SQL backend: one connection and one transaction
for all the calls inside; an error undoes all of it.

HTTP offers no batch (an API cannot take back a request it accepted): `batched` then lets
each call stand on its own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, text

from privacyops.connectors import CollectionSpec, ConnectorError, SqlConnector
from privacyops.connectors.port import Batching, batched
from tests.connectors.conftest import SQL_BACKENDS, Datastore, Harness, email_of
from tests.connectors.test_conformance import CUSTOMER, ORDER, by_id

sql_only = pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)


def outside(datastore: Datastore, sql: str) -> object:
    """What another connection sees: only what was committed."""
    with datastore.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def recorded(engine: Engine, name: str) -> list[object]:
    """Every `name` event of the engine (commit, checkout...) from now on."""
    seen: list[object] = []
    event.listen(engine, name, lambda *args: seen.append(args[0]))
    return seen


@sql_only
def test_a_batch_commits_its_writes_once_at_its_end(harness: Harness, datastore: Datastore) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)
    commits = recorded(connector.engine, "commit")

    with connector.batch([CUSTOMER, ORDER]):
        assert connector.delete(ORDER, "customer_id", [10, 11]) == 4
        assert connector.mask(CUSTOMER, "id", {10: {"name": None}, 11: {"name": None}}) == 2
        # The batch reads its own writes; nobody else sees them before the commit.
        assert connector.retrieve(ORDER, "customer_id", [10, 11]) == []
        assert outside(datastore, "SELECT count(*) FROM orders WHERE customer_id IN (10, 11)") == 4
        assert commits == []

    assert len(commits) == 1
    assert outside(datastore, "SELECT count(*) FROM orders WHERE customer_id IN (10, 11)") == 0
    assert outside(datastore, "SELECT count(*) FROM customers WHERE name IS NULL") == 2


@sql_only
def test_a_batch_takes_one_connection_for_all_its_calls(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)
    checkouts = recorded(connector.engine, "checkout")

    for number in (1, 2, 3):
        connector.retrieve(CUSTOMER, "id", [number])
    alone = len(checkouts)
    with connector.batch():
        for number in (1, 2, 3):
            connector.retrieve(CUSTOMER, "id", [number])
        connector.retrieve(ORDER, "customer_id", [1])

    assert (alone, len(checkouts) - alone) == (3, 1)
    # A batch nothing is asked in takes no connection, neither open nor when it ends.
    with connector.batch():
        assert len(checkouts) == alone + 1
    assert len(checkouts) == alone + 1


class Stop(Exception):
    """The caller's own error, raised inside a batch."""


@sql_only
def test_a_failure_leaving_a_batch_undoes_all_of_it(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)

    def erase() -> None:
        with connector.batch():
            assert connector.delete(ORDER, "customer_id", [10, 11]) == 4
            assert connector.mask(CUSTOMER, "id", {10: {"name": None}}) == 1
            # 12 still has orders: refused, and with it everything before.
            connector.delete(CUSTOMER, "id", [10, 11, 12])

    with pytest.raises(ConnectorError) as refused:
        erase()

    assert not refused.value.retryable
    assert len(connector.retrieve(ORDER, "customer_id", [10, 11])) == 4
    assert by_id(connector.retrieve(CUSTOMER, "id", [10]))[10]["name"] == "Customer 10"


@sql_only
def test_an_error_of_the_caller_inside_a_batch_undoes_it_too(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)

    def erase() -> None:
        with connector.batch():
            connector.delete(ORDER, "customer_id", [10])
            raise Stop

    with pytest.raises(Stop):
        erase()

    assert len(connector.retrieve(ORDER, "customer_id", [10])) == 2


@sql_only
def test_a_batch_that_goes_on_after_a_failed_call_keeps_nothing(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)
    read_inside: list[int] = []

    def erase() -> None:
        with connector.batch():
            assert connector.delete(ORDER, "customer_id", [10]) == 2
            with pytest.raises(ConnectorError):
                connector.delete(CUSTOMER, "id", [12])  # still has orders
            with pytest.raises(ConnectorError, match="refused"):
                connector.mask(CUSTOMER, "id", {11: {"name": None}})
            # Undone at once; reads go on.
            read_inside.append(len(connector.retrieve(ORDER, "customer_id", [10])))

    with pytest.raises(ConnectorError, match="none of its changes were kept"):
        erase()

    assert read_inside == [2]
    assert len(connector.retrieve(ORDER, "customer_id", [10])) == 2
    assert by_id(connector.retrieve(CUSTOMER, "id", [11]))[11]["name"] == "Customer 11"


@sql_only
def test_a_read_that_fails_inside_a_batch_leaves_the_other_reads_working(
    datastore: Datastore,
) -> None:
    # On PostgreSQL a failed statement spoils its transaction: the batch starts a new one.
    notes = CollectionSpec("notes", ("id",))
    with datastore.engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    connector = SqlConnector(datastore.url)
    try:
        connector.retrieve(notes, "id", [])  # known to the connector...
        with datastore.engine.begin() as conn:
            conn.execute(text("DROP TABLE notes"))  # ...then gone

        with connector.batch():
            with pytest.raises(ConnectorError, match="read failed"):
                connector.retrieve(notes, "id", [1])
            rows = connector.retrieve(CUSTOMER, "email", [email_of(5)])
    finally:
        connector.close()

    assert [row["id"] for row in rows] == [5]


@sql_only
def test_batches_inside_a_batch_are_part_of_it(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, SqlConnector)

    def erase() -> None:
        with connector.batch():
            with connector.batch([ORDER]):
                connector.delete(ORDER, "customer_id", [10])
            raise Stop  # the outer batch fails after the inner one ended

    with pytest.raises(Stop):
        erase()

    assert len(connector.retrieve(ORDER, "customer_id", [10])) == 2


@sql_only
def test_an_unknown_table_in_a_batch_is_refused_before_any_statement(
    harness: Harness,
) -> None:
    connector = harness.connector
    with batched(connector, [CollectionSpec("bogus_table", ("id",))]):
        with pytest.raises(ConnectorError, match="no table named 'bogus_table'"):
            connector.retrieve(CollectionSpec("bogus_table", ("id",)), "id", [1])
        assert connector.retrieve(CUSTOMER, "id", [1])[0]["id"] == 1

    assert not [s for s in harness.statements if "bogus" in s]


@pytest.mark.parametrize("backend", ["http"], indirect=True)
def test_a_connector_without_batches_is_called_one_call_at_a_time(harness: Harness) -> None:
    connector = harness.connector
    assert not isinstance(connector, Batching)

    with batched(connector, [CUSTOMER]) as atomic:
        assert connector.delete(ORDER, "customer_id", [10]) == 2

    assert atomic is False
    assert connector.retrieve(ORDER, "customer_id", [10]) == []


@sql_only
def test_batched_opens_the_connectors_own_batch(harness: Harness) -> None:
    connector = harness.connector
    assert isinstance(connector, Batching)
    seen: list[bool] = []

    def erase() -> None:
        with batched(connector, [ORDER]) as atomic:
            seen.append(atomic)
            connector.delete(ORDER, "customer_id", [10])
            raise Stop

    with pytest.raises(Stop):
        erase()

    assert seen == [True]
    assert len(connector.retrieve(ORDER, "customer_id", [10])) == 2
