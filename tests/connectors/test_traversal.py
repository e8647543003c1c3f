"""The traversal's bookkeeping: values asked once, rows kept once, the same answer whether a
walk is fresh or resumed from its stored state, and a failed datastore stopping all of its
datasets (not only the one that failed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from privacyops.connectors.datasets import CollectionKey
from privacyops.connectors.graph import CollectionNode, Edge, FieldInfo, Graph
from privacyops.connectors.port import CollectionSpec, ConnectorError, Row
from privacyops.connectors.traversal import (
    CollectionState,
    _plain,
    dumps,
    loads,
    marker,
    traverse,
)

CUSTOMERS: CollectionKey = ("shop", "customers")
ORDERS: CollectionKey = ("shop", "orders")
CONTACTS: CollectionKey = ("crm", "contacts")


class FakeStore:
    """A datastore in memory that records what it was asked; `broken` tables fail."""

    def __init__(self, name: str, tables: Mapping[str, list[Row]], broken: Sequence[str] = ()):
        self.name = name
        self.tables = tables
        self.broken = set(broken)
        self.asked: list[tuple[str, str, list[Any]]] = []

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        self.asked.append((collection.name, field, list(values)))
        if collection.name in self.broken:
            raise ConnectorError("connection refused", datastore=self.name, retryable=True)
        return [dict(row) for row in self.tables[collection.name] if row.get(field) in values]

    # The rest of the port, unused by the traversal.
    def test_connection(self) -> None:
        """Rows in memory are always reachable."""

    def mask(self, *_args: Any) -> int:
        raise AssertionError("the traversal only reads")

    def delete(self, *_args: Any) -> int:
        raise AssertionError("the traversal only reads")

    def correct(self, *_args: Any) -> int:
        raise AssertionError("the traversal only reads")

    def apply_opt_out(self, *_args: Any) -> None:
        raise AssertionError("the traversal only reads")

    def close(self) -> None:
        """Nothing to release."""


def node(key: CollectionKey, fields: dict[str, str | None]) -> CollectionNode:
    """`fields`: name -> identity kind (or None); the first field is the primary key."""
    names = tuple(fields)
    infos = {
        name: FieldInfo(name, identity=kind, primary_key=name == names[0])
        for name, kind in fields.items()
    }
    return CollectionNode(key, CollectionSpec(key[1], names, (names[0],)), infos)


def shop_graph(*, with_crm: bool = False) -> Graph:
    graph = Graph()
    graph.nodes[CUSTOMERS] = node(CUSTOMERS, {"id": None, "email": "email"})
    graph.nodes[ORDERS] = node(ORDERS, {"id": None, "customer_id": None})
    graph.edges.append(Edge(CUSTOMERS, "id", ORDERS, "customer_id", holder=ORDERS))
    graph.edges.append(Edge(ORDERS, "customer_id", CUSTOMERS, "id", holder=ORDERS))
    if with_crm:
        graph.nodes[CONTACTS] = node(CONTACTS, {"id": None, "email": "email"})
    return graph


SHOP = {
    "customers": [{"id": 1, "email": "ann@example.com"}, {"id": 2, "email": "bob@example.com"}],
    "orders": [
        {"id": 10, "customer_id": 1},
        {"id": 11, "customer_id": 1},
        {"id": 20, "customer_id": 2},
    ],
}


def test_each_value_is_asked_once_and_a_found_primary_key_never() -> None:
    store = FakeStore("shop", SHOP)
    seeds = {"email": ["ann@example.com", "ann@example.com"]}

    result = traverse(shop_graph(), seeds, {"shop": store})

    assert result.complete
    assert sorted(r["id"] for r in result.states[ORDERS].rows) == [10, 11]
    # Orders lead back to customer 1, found already by email: customers are not asked by id.
    assert store.asked == [
        ("customers", "email", ["ann@example.com"]),
        ("orders", "customer_id", [1]),
    ]


def test_a_resumed_walk_asks_nothing_it_asked_before_and_ends_the_same() -> None:
    fresh = traverse(shop_graph(), {"email": ["ann@example.com"]}, {"shop": FakeStore("s", SHOP)})
    stored = {
        key: CollectionState.from_json(state.to_json()) for key, state in fresh.states.items()
    }
    again = FakeStore("shop", SHOP)

    resumed = traverse(shop_graph(), {"email": ["ann@example.com"]}, {"shop": again}, stored)

    assert again.asked == []
    assert {k: s.rows for k, s in resumed.states.items()} == {
        k: s.rows for k, s in fresh.states.items()
    }


def test_rows_found_by_two_paths_are_kept_once_and_new_ones_are_added() -> None:
    state = CollectionState()
    state.add_rows([{"id": 1, "email": "a"}, {"id": 1, "email": "a"}], ("id",))
    state.rows.append({"id": 2, "email": "b"})  # appended from outside: the sets catch up

    state.add_rows([{"id": 2, "email": "b"}, {"id": 3, "email": "c"}], ("id",))
    state.mark_asked("email", ["a", "b"])

    assert [row["id"] for row in state.rows] == [1, 2, 3]
    assert state.asked_set("email") == {marker("a"), marker("b")}
    state.asked["email"].append("c")
    assert marker("c") in state.asked_set("email")


def test_rows_without_a_primary_key_are_told_apart_by_all_their_fields() -> None:
    state = CollectionState()
    state.add_rows([{"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, {"a": 1, "b": [2]}], ())

    assert len(state.rows) == 2


def test_a_datastore_that_fails_stops_all_its_datasets_and_not_the_others() -> None:
    graph = shop_graph(with_crm=True)
    # One datastore serves both datasets; its customers table is down.
    store = FakeStore("shared", {**SHOP, "contacts": [{"id": 7, "email": "ann@example.com"}]})
    store.broken.add("customers")

    result = traverse(graph, {"email": ["ann@example.com"]}, {"shop": store, "crm": store})

    assert set(result.failures) == {CUSTOMERS}
    assert result.failures[CUSTOMERS].retryable
    # Contacts of the same datastore wait for the next run, unasked.
    assert CONTACTS in result.waiting
    assert [asked[0] for asked in store.asked] == ["customers"]


def test_another_datastore_goes_on_when_one_fails() -> None:
    graph = shop_graph(with_crm=True)
    shop = FakeStore("shop", SHOP, broken=["customers"])
    crm = FakeStore("crm", {"contacts": [{"id": 7, "email": "ann@example.com"}]})

    result = traverse(graph, {"email": ["ann@example.com"]}, {"shop": shop, "crm": crm})

    assert set(result.failures) == {CUSTOMERS}
    assert [row["id"] for row in result.states[CONTACTS].rows] == [7]


@pytest.mark.parametrize(
    "value",
    [
        "text",
        7,
        2**70,
        1.5,
        True,
        None,
        Decimal("10.50"),
        Decimal("1E+2"),
        b"\x00bytes",
        date(2024, 2, 29),
        datetime(2024, 2, 29, 13, 5, 7, 123456),
        datetime(2024, 2, 29, 13, 5, tzinfo=UTC),
        datetime(2024, 2, 29, 13, 5, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2024, 2, 29, 13, 5, tzinfo=ZoneInfo("America/New_York")),
        time(9, 30, 1),
        (1, "two"),
        {"nested": [1, Decimal("2.5")]},
        memoryview(b"view"),
    ],
    ids=repr,
)
def test_a_row_is_kept_as_its_stored_form_gives_it_back(value: Any) -> None:
    # Erasure recomputes masked values from the stored originals: a fresh run and a resumed
    # one must hold the same values, of the same types.
    row = {"b": value, "a": 1}

    plain = _plain(row)
    stored = loads(dumps(plain))

    assert list(plain) == ["a", "b"]
    assert plain == stored
    assert type(plain["b"]) is type(stored["b"])
    assert dumps(plain) == dumps(row)
    assert marker(plain["b"]) == marker(stored["b"])


def test_markers_tell_types_apart() -> None:
    assert len({marker(1), marker(1.0), marker(True), marker("1"), marker(Decimal(1))}) == 5
    assert marker(date(2024, 1, 1)) != marker("2024-01-01")
    assert marker([1, 2]) == marker([1, 2])


def test_stored_rows_keep_uuid_values() -> None:
    from uuid import UUID

    from privacyops.connectors.traversal import dumps, loads

    value = UUID("12345678-1234-5678-1234-567812345678")

    assert loads(dumps({"id": value})) == {"id": value}
