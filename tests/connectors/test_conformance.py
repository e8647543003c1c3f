"""The conformance suite every connector passes: read in batches, write only what is asked,
refuse unknown names, fail retryably without leaking secrets, and change nothing on a re-run.

Parametrised over the implementations through the `harness` fixture (SQL on SQLite,
PostgreSQL and MariaDB; HTTP against the shop API of `http_service`); checks read back through
the connector itself wherever they can. For HTTP a "statement" is one request, named by the
verb it stands for (a read is a SELECT), so the batching counts hold for every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from privacyops.connectors import CollectionSpec, Connector, ConnectorError, SqlConnector
from privacyops.connectors.http import HttpConnector, HttpConnectorConfig
from tests.connectors.conftest import CUSTOMERS, SQL_BACKENDS, Harness, email_of, shop_api_config

CUSTOMER = CollectionSpec(
    "customers", ("id", "email", "name", "phone", "segment"), primary_key=("id",)
)
ORDER = CollectionSpec("orders", ("id", "customer_id", "total", "ship_to"), primary_key=("id",))


def by_id(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["id"]: row for row in rows}


def test_the_connector_implements_the_port(harness: Harness) -> None:
    assert isinstance(harness.connector, Connector)
    harness.connector.test_connection()


def test_retrieve_by_identity_reads_a_batch_in_chunks_never_per_row(harness: Harness) -> None:
    wanted = [email_of(n) for n in range(1, 1101)] + ["nobody@example.com", email_of(1)]

    rows = harness.connector.retrieve(CUSTOMER, "email", wanted)

    assert sorted(row["id"] for row in rows) == list(range(1, 1101))
    assert by_id(rows)[7] == {
        "id": 7,
        "email": email_of(7),
        "name": "Customer 7",
        "phone": "555-0007",
        "segment": "retail",
    }
    # 1,101 distinct values at 500 per IN list: three queries, not one per value.
    assert len(harness.sent("SELECT")) == 3


def test_retrieve_by_reference_follows_the_foreign_key(harness: Harness) -> None:
    rows = harness.connector.retrieve(ORDER, "customer_id", [3, 5])

    assert sorted(row["id"] for row in rows) == [31, 32, 51, 52]
    assert by_id(rows)[52]["total"] == Decimal("21.00")
    assert harness.connector.retrieve(ORDER, "customer_id", []) == []


def test_retrieve_reads_only_the_declared_fields(harness: Harness) -> None:
    declared = CollectionSpec("customers", ("id", "email"), primary_key=("id",))

    rows = harness.connector.retrieve(declared, "id", [9])

    assert rows == [{"id": 9, "email": email_of(9)}]


def test_mask_changes_only_the_given_keys(harness: Harness) -> None:
    masked = harness.connector.mask(
        CUSTOMER, "id", {k: {"name": None, "phone": "REDACTED"} for k in (2, 4)}
    )

    assert masked == 2
    rows = by_id(harness.connector.retrieve(CUSTOMER, "id", [1, 2, 3, 4]))
    assert rows[2]["name"] is None
    assert rows[2]["phone"] == "REDACTED"
    assert rows[4]["name"] is None
    assert rows[4]["phone"] == "REDACTED"
    assert rows[1]["name"] == "Customer 1"
    assert rows[3]["phone"] == "555-0003"
    assert rows[2]["email"] == email_of(2)


def test_mask_across_chunks_is_one_call(harness: Harness) -> None:
    keys = list(range(1, 1201))

    assert harness.connector.mask(CUSTOMER, "id", {k: {"segment": None} for k in keys}) == CUSTOMERS
    assert len(harness.sent("UPDATE")) == 3


def test_mask_sets_a_different_value_per_row_in_one_statement_per_chunk(
    harness: Harness,
) -> None:
    updates = {k: {"phone": f"masked-{k}", "segment": None} for k in range(1, 601)}

    assert harness.connector.mask(CUSTOMER, "id", updates) == 600
    again = harness.connector.mask(CUSTOMER, "id", updates)

    rows = by_id(harness.connector.retrieve(CUSTOMER, "id", [1, 600, 601]))
    assert (rows[1]["phone"], rows[600]["phone"]) == ("masked-1", "masked-600")
    assert rows[601]["phone"] == "555-0601"
    assert again == 0
    # 600 keys at 500 per chunk, twice: four UPDATEs, never one per row.
    assert len(harness.sent("UPDATE")) == 4


def test_masks_of_the_same_shape_each_write_their_own_values(harness: Harness) -> None:
    # The SQL connector builds an UPDATE once per shape and binds each call's values.
    first = {1: {"phone": "a-1", "segment": None}, 2: {"phone": "a-2", "segment": None}}
    second = {3: {"phone": "b-3", "segment": None}, 4: {"phone": None, "segment": None}}
    shared = {5: {"phone": "same", "segment": "vip"}, 6: {"phone": "same", "segment": "vip"}}

    changed = [harness.connector.mask(CUSTOMER, "id", u) for u in (first, second, shared)]

    rows = by_id(harness.connector.retrieve(CUSTOMER, "id", [1, 2, 3, 4, 5, 6, 7]))
    assert changed == [2, 2, 2]
    assert [rows[k]["phone"] for k in range(1, 8)] == [
        "a-1",
        "a-2",
        "b-3",
        None,
        "same",
        "same",
        "555-0007",
    ]
    assert [rows[k]["segment"] for k in (1, 4, 5, 7)] == [None, None, "vip", "retail"]
    assert [harness.connector.mask(CUSTOMER, "id", u) for u in (first, second)] == [0, 0]


def test_re_running_a_mask_changes_nothing_more(harness: Harness) -> None:
    first = harness.connector.mask(ORDER, "customer_id", {8: {"ship_to": None}})
    before = harness.connector.retrieve(ORDER, "customer_id", [8])

    second = harness.connector.mask(ORDER, "customer_id", {8: {"ship_to": None}})

    assert (first, second) == (2, 0)
    assert harness.connector.retrieve(ORDER, "customer_id", [8]) == before


def test_delete_removes_only_the_given_keys(harness: Harness) -> None:
    assert harness.connector.delete(ORDER, "customer_id", [10, 11]) == 4
    assert harness.connector.delete(CUSTOMER, "id", [10, 11]) == 2

    assert harness.connector.retrieve(CUSTOMER, "id", [9, 10, 11, 12]) != []
    assert sorted(r["id"] for r in harness.connector.retrieve(CUSTOMER, "id", [9, 10, 11, 12])) == [
        9,
        12,
    ]
    assert len(harness.connector.retrieve(ORDER, "customer_id", [9, 10, 11, 12])) == 4
    # Deleting again finds nothing left to delete.
    assert harness.connector.delete(CUSTOMER, "id", [10, 11]) == 0


def test_a_refused_write_changes_nothing_of_its_batch(harness: Harness) -> None:
    harness.connector.delete(ORDER, "customer_id", [10, 11])
    # 12 still has orders: the datastore refuses the batch, 10 and 11 included.
    with pytest.raises(ConnectorError) as refused:
        harness.connector.delete(CUSTOMER, "id", [10, 11, 12])

    assert not refused.value.retryable
    assert len(harness.sent("DELETE")) == 2
    remaining = harness.connector.retrieve(CUSTOMER, "id", [10, 11, 12])
    assert sorted(row["id"] for row in remaining) == [10, 11, 12]


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_a_refused_write_is_undone_whole_across_chunks(harness: Harness) -> None:
    # SQL backends only, on purpose: one database transaction spans every chunk of a call. An
    # HTTP API offers no transaction across requests, so a batch it accepted cannot be taken
    # back when a later one is refused; what HTTP does guarantee is the test above (a refused
    # batch changes nothing), and re-running the call completes it.
    assert isinstance(harness.connector, SqlConnector)
    harness.connector.delete(ORDER, "customer_id", [10, 11])
    harness.connector.chunk_size = 2
    # 10 and 11 go in the first chunk; 12 still has orders, so the second chunk is refused
    # and the first is rolled back with it: one transaction per call.
    with pytest.raises(ConnectorError) as refused:
        harness.connector.delete(CUSTOMER, "id", [10, 11, 12])

    assert not refused.value.retryable
    assert len(harness.sent("DELETE")) == 3
    remaining = harness.connector.retrieve(CUSTOMER, "id", [10, 11, 12])
    assert sorted(row["id"] for row in remaining) == [10, 11, 12]


def test_correct_changes_one_row(harness: Harness) -> None:
    changed = harness.connector.correct(CUSTOMER, "email", email_of(20), {"name": "Ann Lee"})

    rows = by_id(harness.connector.retrieve(CUSTOMER, "id", [19, 20, 21]))
    assert changed == 1
    assert rows[20]["name"] == "Ann Lee"
    assert rows[19]["name"] == "Customer 19"
    assert rows[21]["name"] == "Customer 21"


def test_correct_refuses_a_key_that_matches_several_rows(harness: Harness) -> None:
    with pytest.raises(ConnectorError, match="several rows"):
        harness.connector.correct(CUSTOMER, "segment", "retail", {"name": "Everyone"})

    assert harness.connector.retrieve(CUSTOMER, "id", [1])[0]["name"] == "Customer 1"


@pytest.mark.parametrize(
    ("operation", "bogus"),
    [
        ("retrieve-table", "customers; DROP TABLE orders"),
        ("retrieve-field", "email OR 1=1"),
        ("retrieve-declared", "password_hash"),
        ("mask-update", "bogus_column"),
        ("mask-key", "bogus_column"),
        ("delete-table", "bogus_table"),
        ("correct-change", "bogus_column"),
    ],
)
def test_unknown_names_are_refused_before_anything_runs(
    harness: Harness, operation: str, bogus: str
) -> None:
    connector = harness.connector
    calls = {
        "retrieve-table": lambda: connector.retrieve(CollectionSpec(bogus, ("id",)), "id", [1]),
        "retrieve-field": lambda: connector.retrieve(CUSTOMER, bogus, [1]),
        "retrieve-declared": lambda: connector.retrieve(
            CollectionSpec("customers", ("id", bogus)), "id", [1]
        ),
        "mask-update": lambda: connector.mask(CUSTOMER, "id", {1: {bogus: None}}),
        "mask-key": lambda: connector.mask(CUSTOMER, bogus, {1: {"name": None}}),
        "delete-table": lambda: connector.delete(CollectionSpec(bogus, ("id",)), "id", [1]),
        "correct-change": lambda: connector.correct(CUSTOMER, "id", 1, {bogus: "x"}),
    }

    with pytest.raises(ConnectorError) as refused:
        calls[operation]()

    assert repr(bogus) in str(refused.value)
    assert not refused.value.retryable
    assert harness.statements == []
    assert len(connector.retrieve(ORDER, "customer_id", [1])) == 2
    assert connector.retrieve(CUSTOMER, "id", [1])[0]["name"] == "Customer 1"


SECRET = "s3cret-Pa55word"


def _unreachable_api() -> HttpConnector:
    config = shop_api_config("http://127.0.0.1:1")
    return HttpConnector(
        HttpConnectorConfig.parse(config), {"shop_api_token": SECRET}, sleep=lambda _s: None
    )


@pytest.mark.parametrize(
    "unreachable",
    [
        lambda: SqlConnector(f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/shop"),
        lambda: SqlConnector(f"mysql+pymysql://root:{SECRET}@127.0.0.1:1/shop"),
        lambda: SqlConnector("sqlite:////nonexistent/directory/shop.db"),
        _unreachable_api,
    ],
    ids=["postgresql", "mariadb", "sqlite", "http"],
)
def test_an_unreachable_datastore_is_a_retryable_error_without_the_password(
    unreachable: Callable[[], SqlConnector | HttpConnector],
) -> None:
    connector = unreachable()
    try:
        for attempt in (
            connector.test_connection,
            lambda: connector.retrieve(CUSTOMER, "email", [email_of(1)]),
            lambda: connector.delete(CUSTOMER, "id", [1]),
        ):
            with pytest.raises(ConnectorError) as refused:
                attempt()
            error = refused.value
            assert error.retryable
            assert SECRET not in str(error)
            assert SECRET not in repr(error.args)
            assert email_of(1) not in str(error)
            assert error.__cause__ is None
            # The driver's exception (which may carry the URL or parameters) is not attached.
            assert error.__suppress_context__ or error.__context__ is None
            assert error.datastore == connector.name
            assert connector.name in str(error)
            assert SECRET not in connector.name
            assert "root" not in connector.name
    finally:
        connector.close()


def test_values_are_bound_never_spliced_into_the_statement(harness: Harness) -> None:
    # For SQL: bound parameters. For HTTP: values are encoded (percent-encoded in a query,
    # JSON in a body), never pasted raw into a request line.
    hostile = "x' OR '1'='1"

    assert harness.connector.retrieve(CUSTOMER, "email", [hostile]) == []
    assert harness.connector.mask(CUSTOMER, "email", {hostile: {"name": None}}) == 0
    assert not [s for s in harness.statements if hostile in s]
    # A value of the wrong type finds nothing, or is refused without being quoted back.
    outcome: object
    try:
        outcome = harness.connector.retrieve(CUSTOMER, "id", ["ann@example.com"])
    except ConnectorError as refused:
        outcome = str(refused)
    assert outcome == [] or "ann@example.com" not in str(outcome)
    assert harness.connector.retrieve(CUSTOMER, "id", [1])[0]["name"] == "Customer 1"
