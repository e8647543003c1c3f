"""The traversal: from verified identities to every row of the subject, collection by collection.

Values flow along the declared edges as a graph (cycles allowed): a collection is asked only for
values it has not been asked for yet, all of them in one call per field and step (the connector
batches them into IN lists), so the cost grows with the subject's rows, not the table sizes, and
a cycle ends when no new value appears.

What each collection knows (values asked, rows found) is a `CollectionState`, saved by the
caller after every step: a datastore that fails is retried later from exactly where it stopped,
and the rows already found are never asked for again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from privacyops.connectors.datasets import CollectionKey
from privacyops.connectors.graph import FoundCollection, Graph
from privacyops.connectors.manual import ManualTaskRequired
from privacyops.connectors.port import Connector, ConnectorError, Row


@dataclass
class CollectionState:
    """One collection's progress: values asked for per field, and the rows found so far."""

    asked: dict[str, list[Any]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def asked_set(self, name: str) -> set[Any]:
        return set(map(_hashable, self.asked.get(name, [])))

    def add_rows(self, rows: Iterable[Row], primary_key: Sequence[str]) -> None:
        """Rows found by two paths (email and customer id) are kept once."""
        seen = {self._identity(row, primary_key) for row in self.rows}
        for row in rows:
            identity = self._identity(row, primary_key)
            if identity not in seen:
                seen.add(identity)
                self.rows.append(row)

    @staticmethod
    def _identity(row: Row, primary_key: Sequence[str]) -> str:
        keys = primary_key or sorted(row)
        return dumps([row.get(name) for name in keys])

    def to_json(self) -> str:
        return dumps({"asked": self.asked, "rows": self.rows})

    @classmethod
    def from_json(cls, text: str) -> CollectionState:
        data = loads(text)
        return cls(asked=dict(data.get("asked", {})), rows=list(data.get("rows", [])))


@dataclass(frozen=True)
class StepFailure:
    key: CollectionKey
    error: str
    retryable: bool
    manual: ManualTaskRequired | None = None
    # A processor has the instruction and has not confirmed it yet: wait, this is no failure.
    waiting: bool = False


@dataclass
class TraversalResult:
    states: dict[CollectionKey, CollectionState]
    failures: dict[CollectionKey, StepFailure]
    waiting: set[CollectionKey]  # not asked: their datastore failed earlier in this run

    @property
    def complete(self) -> bool:
        return not self.failures and not self.waiting

    def found(self, graph: Graph) -> list[FoundCollection]:
        return [
            FoundCollection(graph.nodes[key], list(state.rows))
            for key, state in self.states.items()
            if key in graph.nodes and state.rows
        ]


SaveStep = Callable[[CollectionKey, CollectionState, StepFailure | None], None]


def traverse(
    graph: Graph,
    seeds: Mapping[str, Sequence[Any]],
    connectors: Mapping[str, Connector],
    states: Mapping[CollectionKey, CollectionState] | None = None,
    save: SaveStep | None = None,
    answered: frozenset[CollectionKey] = frozenset(),
) -> TraversalResult:
    """Walk the graph from `seeds` (identity kind -> values) until no collection has a value it
    was not asked for. `connectors` maps a dataset key to its connector. Collections in
    `answered` are not asked again (a person searched them: their answer is theirs).

    After a collection's datastore fails, the other collections of that datastore wait for the
    next run (one refused connection is enough to know); other datastores go on.
    """
    current = {key: CollectionState() for key in graph.nodes}
    current.update({key: state for key, state in (states or {}).items() if key in graph.nodes})
    failures: dict[CollectionKey, StepFailure] = {}
    down: set[str] = set()
    while True:
        todo = {k: v for k, v in _pending(graph, seeds, current).items() if k not in answered}
        runnable = {
            key: fields
            for key, fields in todo.items()
            if key[0] not in down and key not in failures
        }
        if not runnable:
            waiting = {key for key in todo if key not in failures}
            return TraversalResult(current, failures, waiting)
        for key, wanted in runnable.items():
            failure = _step(graph, key, wanted, connectors, current[key])
            if failure is not None:
                failures[key] = failure
                down.add(key[0])
            if save is not None:
                save(key, current[key], failure)


def _step(
    graph: Graph,
    key: CollectionKey,
    wanted: Mapping[str, list[Any]],
    connectors: Mapping[str, Connector],
    state: CollectionState,
) -> StepFailure | None:
    node = graph.nodes[key]
    connector = connectors.get(key[0])
    if connector is None:
        return StepFailure(key, f"{key[0]}: no datastore is connected", retryable=False)
    try:
        for name, values in wanted.items():
            rows = connector.retrieve(node.spec, name, values)
            state.add_rows((_plain(row) for row in rows), node.spec.primary_key)
            state.asked.setdefault(name, []).extend(values)
    except ManualTaskRequired as task:
        return StepFailure(key, str(task), retryable=False, manual=task)
    except ConnectorError as error:
        return StepFailure(key, str(error), retryable=error.retryable)
    return None


def _pending(
    graph: Graph,
    seeds: Mapping[str, Sequence[Any]],
    states: Mapping[CollectionKey, CollectionState],
) -> dict[CollectionKey, dict[str, list[Any]]]:
    """Per collection and field, the known values it has not been asked for yet."""
    known: dict[CollectionKey, dict[str, list[Any]]] = {}

    def offer(key: CollectionKey, name: str, values: Iterable[Any]) -> None:
        asked = states[key].asked_set(name)
        if graph.nodes[key].spec.primary_key == (name,):
            # A row already found is the only row with its primary key: no need to ask again.
            asked |= {_hashable(row.get(name)) for row in states[key].rows}
        bucket = known.setdefault(key, {}).setdefault(name, [])
        have = set(map(_hashable, bucket))
        for value in values:
            marker = _hashable(value)
            if value is not None and marker not in asked and marker not in have:
                have.add(marker)
                bucket.append(value)

    for key, node in graph.nodes.items():
        for name, kind in node.identities.items():
            offer(key, name, seeds.get(kind, ()))
    for edge in graph.edges:
        rows = states[edge.source].rows
        offer(edge.target, edge.target_field, (row.get(edge.source_field) for row in rows))
    return {
        key: {name: values for name, values in fields.items() if values}
        for key, fields in known.items()
        if any(fields.values())
    }


def _hashable(value: Any) -> Any:
    return dumps(value)


def _plain(row: Row) -> Row:
    """Rows as the state stores them: what a JSON round trip gives back, so that a resumed run
    and a fresh one see the same values."""
    return loads(dumps(dict(row)))  # type: ignore[no-any-return]


# -- JSON that keeps the types the erasure needs to recompute the same masked values ----------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[str], Any]] = {
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$decimal": Decimal,
    "$bytes": base64.b64decode,
}


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((tag, text),) = obj.items()
        if tag in _DECODERS and isinstance(text, str):
            return _DECODERS[tag](text)
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


__all__ = [
    "CollectionState",
    "StepFailure",
    "TraversalResult",
    "dumps",
    "loads",
    "traverse",
]
