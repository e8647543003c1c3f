"""The declarations as the engine walks them: collections, their fields, and field-level edges.

Built once from checked `DeclaredDataset`s; plain frozen data, so jobs and tests build it
from the stored declarations without touching a datastore.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from privacyops.connectors.datasets import CollectionKey, DeclaredDataset
from privacyops.connectors.port import CollectionSpec, Row


@dataclass(frozen=True)
class FieldInfo:
    """One declared field: what it holds and how an erasure or a correction treats it."""

    name: str
    categories: tuple[str, ...] = ()  # fideslang data-category keys
    strategy: str | None = None  # the declared masking strategy; None: the category default
    identity: str | None = None  # identity kind (email, phone, loyalty_id, device_id)
    length: int | None = None  # declared maximum length (masked values must fit)
    data_type: str | None = None
    correctable: bool = False
    primary_key: bool = False


@dataclass(frozen=True)
class Edge:
    """Values of `source.source_field` find the rows of `target` whose `target_field` matches."""

    source: CollectionKey
    source_field: str
    target: CollectionKey
    target_field: str
    # The collection whose field declares the reference: its rows point at the other's.
    holder: CollectionKey | None = None


@dataclass(frozen=True)
class CollectionNode:
    key: CollectionKey
    spec: CollectionSpec
    fields: Mapping[str, FieldInfo]

    @property
    def dataset(self) -> str:
        return self.key[0]

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def identities(self) -> dict[str, str]:
        """field -> identity kind, for the fields the traversal starts from."""
        return {name: f.identity for name, f in self.fields.items() if f.identity}

    @property
    def personal_fields(self) -> list[FieldInfo]:
        return [f for f in self.fields.values() if f.categories]


@dataclass(frozen=True)
class FoundCollection:
    """What a traversal found in one collection: the declared fields of each matching row."""

    node: CollectionNode
    rows: list[Row]


@dataclass
class Graph:
    nodes: dict[CollectionKey, CollectionNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def outgoing(self, key: CollectionKey) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == key]

    def incoming(self, key: CollectionKey) -> list[Edge]:
        return [edge for edge in self.edges if edge.target == key]

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(key[0] for key in self.nodes))

    def erasure_order(self) -> list[CollectionKey]:
        """Collections whose rows point at others first (children before parents), so that
        deleting a row never breaks a foreign key still pointing at it. Cycles fall back to
        declaration order."""
        # The collection holding a reference goes before the one it refers to.
        children: dict[CollectionKey, set[CollectionKey]] = {key: set() for key in self.nodes}
        for edge in self.edges:
            if edge.holder is None or edge.source == edge.target:
                continue
            other = edge.target if edge.holder == edge.source else edge.source
            children[other].add(edge.holder)
        ordered: list[CollectionKey] = []
        visiting: set[CollectionKey] = set()

        def visit(key: CollectionKey) -> None:
            if key in ordered or key in visiting:
                return
            visiting.add(key)
            for child in sorted(children[key]):
                visit(child)
            visiting.discard(key)
            ordered.append(key)

        for key in self.nodes:
            visit(key)
        return ordered


def build_graph(datasets: Iterable[DeclaredDataset]) -> Graph:
    """The graph of checked declarations; collections marked `skip_processing` are left out."""
    graph = Graph()
    pending_refs: list[tuple[CollectionKey, str, str, str, str | None]] = []
    for declared in datasets:
        dataset = declared.dataset.fides_key
        for collection in declared.dataset.collections:
            meta = collection.fides_meta
            if meta is not None and meta.skip_processing:
                continue
            key = (dataset, collection.name)
            fields: dict[str, FieldInfo] = {}
            # fideslang sorts fields by name; packages show them as the declaration orders them.
            place = {name: n for n, name in enumerate(declared.field_paths)}
            ordered = sorted(
                _flatten(collection.fields, ""),
                key=lambda pair: place.get((collection.name, pair[0]), len(place)),
            )
            for name, item in ordered:
                fmeta = item.fides_meta
                fields[name] = FieldInfo(
                    name=name,
                    categories=tuple(item.data_categories or ()),
                    strategy=declared.masking.get((collection.name, name)),
                    identity=fmeta.identity if fmeta else None,
                    length=fmeta.length if fmeta else None,
                    data_type=fmeta.data_type if fmeta else None,
                    correctable=(collection.name, name) in declared.correctable,
                    primary_key=bool(fmeta and fmeta.primary_key),
                )
                for ref in (fmeta.references or []) if fmeta else []:
                    direction = ref.direction.value if ref.direction else None
                    pending_refs.append((key, name, ref.dataset, ref.field, direction))
            primary = tuple(name for name, info in fields.items() if info.primary_key)
            spec = CollectionSpec(collection.name, tuple(fields), primary_key=primary)
            graph.nodes[key] = CollectionNode(key, spec, fields)
    for here, name, dataset, target, direction in pending_refs:
        target_collection, _, target_field = target.partition(".")
        there = (dataset, target_collection)
        if there not in graph.nodes or here not in graph.nodes:
            continue
        if direction in (None, "from"):
            graph.edges.append(Edge(there, target_field, here, name, holder=here))
        if direction in (None, "to"):
            graph.edges.append(Edge(here, name, there, target_field, holder=here))
    return graph


def _flatten(fields: Any, prefix: str) -> Iterable[tuple[str, Any]]:
    # Nested fields (documents) are addressed by their dotted name; SQL tables have none.
    for item in fields or []:
        name = f"{prefix}{item.name}"
        if item.fields:
            yield from _flatten(item.fields, f"{name}.")
        else:
            yield name, item


def identity_fields(graph: Graph) -> dict[str, list[tuple[CollectionKey, str]]]:
    """identity kind -> the (collection, field) pairs declared to hold it."""
    found: dict[str, list[tuple[CollectionKey, str]]] = {}
    for key, node in graph.nodes.items():
        for name, kind in node.identities.items():
            found.setdefault(kind, []).append((key, name))
    return found


__all__ = [
    "CollectionNode",
    "Edge",
    "FieldInfo",
    "FoundCollection",
    "Graph",
    "build_graph",
    "identity_fields",
]
