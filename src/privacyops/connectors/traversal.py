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
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from privacyops.connectors.datasets import CollectionKey
from privacyops.connectors.graph import FoundCollection, Graph
from privacyops.connectors.manual import ManualTaskRequired
from privacyops.connectors.port import Connector, ConnectorError, Row


@dataclass
class CollectionState:
    """One collection's progress: values asked for per field, and the rows found so far.

    `asked` and `rows` are what is stored; both only grow. The sets beside them (markers of the
    values asked, identities of the rows found) are derived, and catch up with what was
    appended since they were last read, so each value is looked at once, not once a round.
    """

    asked: dict[str, list[Any]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    _asked_markers: dict[str, tuple[int, set[Any]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _found: dict[tuple[str, ...], tuple[int, set[Any]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def asked_set(self, name: str) -> set[Any]:
        """Markers (see `marker`) of the values `name` was asked for; do not change it."""
        values = self.asked.get(name, [])
        seen, markers = self._asked_markers.get(name, (0, set()))
        if seen < len(values):
            markers.update(map(marker, values[seen:]))
            self._asked_markers[name] = (len(values), markers)
        return markers

    def mark_asked(self, name: str, values: Iterable[Any]) -> None:
        self.asked.setdefault(name, []).extend(values)

    def found_set(self, keys: Sequence[str]) -> set[Any]:
        """Identities of the rows found: their `keys` values (every field's without keys)."""
        names = tuple(keys)
        seen, identities = self._found.get(names, (0, set()))
        if seen < len(self.rows):
            identities.update(_identity(row, names) for row in self.rows[seen:])
            self._found[names] = (len(self.rows), identities)
        return identities

    def add_rows(self, rows: Iterable[Row], primary_key: Sequence[str]) -> None:
        """Rows found by two paths (email and customer id) are kept once."""
        seen = self.found_set(primary_key)
        for row in rows:
            identity = _identity(row, tuple(primary_key))
            if identity not in seen:
                seen.add(identity)
                self.rows.append(row)
        self._found[tuple(primary_key)] = (len(self.rows), seen)

    def to_json(self) -> str:
        return dumps({"asked": self.asked, "rows": self.rows})

    @classmethod
    def from_json(cls, text: str) -> CollectionState:
        data = loads(text)
        return cls(asked=dict(data.get("asked", {})), rows=list(data.get("rows", [])))


def _identity(row: Row, keys: tuple[str, ...]) -> Any:
    if len(keys) == 1:
        return marker(row.get(keys[0]))
    if not keys:
        return tuple((name, marker(value)) for name, value in sorted(row.items()))
    return tuple(marker(row.get(name)) for name in keys)


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

    After a collection's datastore fails, the other collections of that datastore (every
    dataset it serves) wait for the next run (one refused connection is enough to know); other
    datastores go on.
    """
    current = {key: CollectionState() for key in graph.nodes}
    current.update({key: state for key, state in (states or {}).items() if key in graph.nodes})
    failures: dict[CollectionKey, StepFailure] = {}
    down: set[str] = set()  # datasets whose datastore failed
    while True:
        todo = {k: v for k, v in _pending(graph, seeds, current).items() if k not in answered}
        runnable = {key: fields for key, fields in todo.items() if key not in failures}
        if not any(key[0] not in down for key in runnable):
            waiting = {key for key in todo if key not in failures}
            return TraversalResult(current, failures, waiting)
        for key, wanted in runnable.items():
            if key[0] in down:
                continue
            failure = _step(graph, key, wanted, connectors, current[key])
            if failure is not None:
                failures[key] = failure
                down |= _served_with(key[0], connectors)
            if save is not None:
                save(key, current[key], failure)


def _served_with(dataset: str, connectors: Mapping[str, Connector]) -> set[str]:
    """The datasets of the datastore that serves `dataset` (its connector serves them all)."""
    connector = connectors.get(dataset)
    return {dataset} | {name for name, other in connectors.items() if other is connector}


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
            state.add_rows(map(_plain, rows), node.spec.primary_key)
            state.mark_asked(name, values)
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
    known: dict[CollectionKey, dict[str, dict[Any, Any]]] = {}
    excluded: dict[tuple[CollectionKey, str], set[Any]] = {}

    def offer(key: CollectionKey, name: str, values: Iterable[Any]) -> None:
        asked = excluded.get((key, name))
        if asked is None:
            asked = states[key].asked_set(name)
            if graph.nodes[key].spec.primary_key == (name,):
                # A row already found is the only row with its primary key: no need to ask
                # again. (The union is a new set: the state's own is left as it is.)
                asked = asked | states[key].found_set((name,))
            excluded[(key, name)] = asked
        bucket = known.setdefault(key, {}).setdefault(name, {})
        for value in values:
            if value is not None:
                mark = marker(value)
                if mark not in asked and mark not in bucket:
                    bucket[mark] = value

    for key, node in graph.nodes.items():
        for name, kind in node.identities.items():
            offer(key, name, seeds.get(kind, ()))
    for edge in graph.edges:
        rows = states[edge.source].rows
        offer(edge.target, edge.target_field, (row.get(edge.source_field) for row in rows))
    return {
        key: {name: list(values.values()) for name, values in fields.items() if values}
        for key, fields in known.items()
        if any(fields.values())
    }


# Types whose values a JSON round trip of the stored state gives back as they are (same type,
# equal value): rows made of them need no round trip, and they are their own markers.
_KEPT_AS_THEY_ARE = frozenset({str, int, float, bool, type(None), Decimal, bytes, date})
_WITH_TIME = frozenset({datetime, time})


def _kept_as_it_is(value: Any) -> bool:
    kind = type(value)
    if kind in _KEPT_AS_THEY_ARE:
        return True
    # An offset survives the round trip as a fixed offset; a named zone would not.
    return kind in _WITH_TIME and (value.tzinfo is None or type(value.tzinfo) is timezone)


def marker(value: Any) -> Any:
    """A hashable stand-in for a value: equal for equal values of one type, different across
    types (1, 1.0 and True are three values; so are a date and its text). Values of other
    types than those kept as they are stand for themselves as stored (their JSON)."""
    if _kept_as_it_is(value):
        return (type(value), value)
    return dumps(value)


def _plain(row: Row) -> Row:
    """Rows as the state stores them: what a JSON round trip gives back (keys in order,
    values of the types the round trip keeps), so that a resumed run and a fresh one see the
    same values. Only values of other types (a tuple, a zoned time...) make the trip."""
    return {
        name: value if _kept_as_it_is(value) else loads(dumps(value))
        for name, value in sorted(row.items())
    }


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
    if isinstance(value, uuid.UUID):  # PostgreSQL uuid columns
        return {"$uuid": str(value)}
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[str], Any]] = {
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$decimal": Decimal,
    "$bytes": base64.b64decode,
    "$uuid": uuid.UUID,
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
    "marker",
    "traverse",
]
