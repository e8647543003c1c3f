"""Dataset declarations: where personal data lives, in the Fides dataset YAML shape.

A file holds `dataset: [...]`; each dataset is validated with fideslang's own model, then
checked against the policy manifest. Two privacyops extensions live under `fides_meta`, which
fideslang reads but ignores unknown keys of:

- on a dataset, `fides_meta: {location: <key>}`: where the datastore is, one of the policy's
  `location.locations` keys (required);
- on a field, `fides_meta: {masking_strategy: null | hash | random | redact | delete_row}`: how
  an erasure treats the field (optional; the default comes from its category);
- on a field, `fides_meta: {correctable: true}`: a correction request may change it.

Nothing here raises on bad input: every problem comes back with file, line and field.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fideslang.models import Dataset
from pydantic import ValidationError
from sqlalchemy.engine.reflection import Inspector

from privacyops.errors import FieldProblem
from privacyops.identity.normalize import IdentityKind
from privacyops.policy.loader import in_reading_order, structural_problems
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.taxonomy import Taxonomy, TaxonomyKind, default_taxonomy, is_under
from privacyops.policy.yamlsource import Path as DocPath
from privacyops.policy.yamlsource import YamlDocument, parse_yaml

MASKING_STRATEGIES: tuple[str, ...] = ("null", "hash", "random", "redact", "delete_row")

CollectionKey = tuple[str, str]  # (dataset fides_key, collection name)


@dataclass
class DeclaredDataset:
    """One dataset that passed fideslang's model, with where it stands in its file."""

    dataset: Dataset
    doc: YamlDocument
    path: DocPath
    location: str | None
    # (collection, field) -> masking strategy, where the declaration chooses one.
    masking: dict[tuple[str, str], str] = field(default_factory=dict)
    # (collection, field) pairs a correction request may change (`fides_meta.correctable`).
    correctable: set[tuple[str, str]] = field(default_factory=set)

    # Where each collection and (collection, dotted field name) stands in the file: fideslang's
    # model sorts collections and fields by name, so its indexes are not the document's.
    collection_paths: dict[str, DocPath] = field(default_factory=dict)
    field_paths: dict[tuple[str, str], DocPath] = field(default_factory=dict)

    def collection_path(self, name: str) -> DocPath:
        return self.collection_paths.get(name, (*self.path, "collections"))

    def field_path(self, collection: str, name: str) -> DocPath:
        return self.field_paths.get((collection, name), self.collection_path(collection))


@dataclass
class DatasetCheck:
    datasets: list[DeclaredDataset] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[FieldProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FieldProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_dataset_files(paths: Iterable[Path], policy: PolicyManifest | None) -> DatasetCheck:
    result = DatasetCheck()
    for path in paths:
        text, unreadable = _read(path)
        if unreadable is not None:
            result.problems.append(unreadable)
            continue
        _load_text(text, str(path), result)
    return _check_all(result, policy)


def check_dataset_text(text: str, filename: str, policy: PolicyManifest | None) -> DatasetCheck:
    result = DatasetCheck()
    _load_text(text, filename, result)
    return _check_all(result, policy)


def _check_all(result: DatasetCheck, policy: PolicyManifest | None) -> DatasetCheck:
    result.problems += _duplicates(result.datasets)
    result.problems += _field_problems(result.datasets, policy)
    unresolved, problems = _reference_problems(result.datasets)
    result.problems += problems
    result.problems += _reachability_problems(result.datasets, unresolved)
    result.problems += _location_problems(result.datasets, policy)
    result.problems = in_reading_order(result.problems)
    return result


def _read(path: Path) -> tuple[str, FieldProblem | None]:
    name = str(path)
    try:
        return path.read_text(encoding="utf-8"), None
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory, not a dataset file"
    except UnicodeDecodeError:
        message = "is not UTF-8 text"
    except OSError as exc:
        message = f"cannot be read: {exc.strerror}"
    return "", FieldProblem("(file)", message, None, name)


def _load_text(text: str, filename: str, result: DatasetCheck) -> None:
    doc, problems = parse_yaml(text, filename)
    result.problems += problems
    if doc is None:
        return
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("dataset"), list):
        result.problems.append(
            doc.problem((), "a dataset file is a YAML mapping with a `dataset:` list")
        )
        return
    for index, raw in enumerate(data["dataset"]):
        path: DocPath = ("dataset", index)
        if not isinstance(raw, dict):
            result.problems.append(doc.problem(path, "a dataset must be a mapping"))
            continue
        result.problems += _masking_problems(raw, doc, path)
        try:
            dataset = Dataset.model_validate(raw)
        except ValidationError as exc:
            for where, message in structural_problems(exc, raw):
                result.problems.append(doc.problem((*path, *where), message))
            continue
        meta = raw.get("fides_meta")
        location = meta.get("location") if isinstance(meta, dict) else None
        place = str(location) if location is not None else None
        declared = DeclaredDataset(
            dataset, doc, path, place, _masking(raw, path), _correctable(raw, path)
        )
        result.problems += _locate(declared, raw)
        result.datasets.append(declared)


RawField = tuple[str, str, dict[str, Any], DocPath]  # collection, dotted name, raw, path


def _raw_fields(raw: dict[str, Any], path: DocPath) -> Iterator[RawField]:
    collections = raw.get("collections")
    for c_index, collection in enumerate(collections if isinstance(collections, list) else []):
        if isinstance(collection, dict):
            where: DocPath = (*path, "collections", c_index)
            name = str(collection.get("name"))
            yield from _raw_nested(name, collection.get("fields"), where, "")


def _raw_nested(collection: str, fields: Any, path: DocPath, prefix: str) -> Iterator[RawField]:
    for index, item in enumerate(fields if isinstance(fields, list) else []):
        if isinstance(item, dict):
            here: DocPath = (*path, "fields", index)
            name = f"{prefix}{item.get('name')}"
            yield collection, name, item, here
            yield from _raw_nested(collection, item.get("fields"), here, f"{name}.")


def _locate(declared: DeclaredDataset, raw: dict[str, Any]) -> list[FieldProblem]:
    """Record where each collection and field stands; a name declared twice is an error."""
    problems = []
    for index, collection in enumerate(raw.get("collections") or []):
        name = str(collection.get("name"))
        where: DocPath = (*declared.path, "collections", index)
        if name in declared.collection_paths:
            message = f"collection {name!r} is declared twice in this dataset"
            problems.append(declared.doc.problem((*where, "name"), message))
        declared.collection_paths.setdefault(name, where)
    for collection_name, name, _, path in _raw_fields(raw, declared.path):
        if (collection_name, name) in declared.field_paths:
            message = f"field {name!r} is declared twice in collection {collection_name!r}"
            problems.append(declared.doc.problem((*path, "name"), message))
        declared.field_paths.setdefault((collection_name, name), path)
    return problems


def _masking(raw: dict[str, Any], path: DocPath) -> dict[tuple[str, str], str]:
    chosen = {}
    for collection, name, item, _ in _raw_fields(raw, path):
        meta = item.get("fides_meta")
        if isinstance(meta, dict) and "masking_strategy" in meta:
            # `masking_strategy: null` parses as YAML null: it means the "null" strategy.
            value = meta["masking_strategy"]
            chosen[(collection, name)] = "null" if value is None else str(value)
    return chosen


def _correctable(raw: dict[str, Any], path: DocPath) -> set[tuple[str, str]]:
    chosen = set()
    for collection, name, item, _ in _raw_fields(raw, path):
        meta = item.get("fides_meta")
        if isinstance(meta, dict) and meta.get("correctable") is True:
            chosen.add((collection, name))
    return chosen


def _masking_problems(raw: dict[str, Any], doc: YamlDocument, path: DocPath) -> list[FieldProblem]:
    """fideslang ignores our extension keys, so their values are checked on the raw data."""
    problems = []
    for _, _, item, where in _raw_fields(raw, path):
        meta = item.get("fides_meta")
        if isinstance(meta, dict) and not isinstance(meta.get("correctable", False), bool):
            problems.append(
                doc.problem((*where, "fides_meta", "correctable"), "correctable is true or false")
            )
        if not isinstance(meta, dict) or "masking_strategy" not in meta:
            continue
        value = meta["masking_strategy"]
        if value is not None and value not in MASKING_STRATEGIES:
            allowed = ", ".join(MASKING_STRATEGIES)
            problems.append(
                doc.problem(
                    (*where, "fides_meta", "masking_strategy"),
                    f"unknown masking strategy {value!r}: use one of {allowed}",
                )
            )
    return problems


# --- fields: categories and identities ----------------------------------------------------


@dataclass(frozen=True)
class _Field:
    declared: DeclaredDataset
    collection: str
    name: str  # dotted for nested fields
    path: DocPath
    data_categories: list[str]
    identity: str | None
    references: list[tuple[str, str, str | None]]  # (dataset, "collection.field", direction)


def _fields(datasets: list[DeclaredDataset]) -> Iterator[_Field]:
    for declared in datasets:
        for collection in declared.dataset.collections:
            yield from _walk(declared, collection.name, collection.fields, "")


def _walk(declared: DeclaredDataset, collection: str, fields: Any, prefix: str) -> Iterator[_Field]:
    for item in fields or []:
        meta = item.fides_meta
        refs = [
            (ref.dataset, ref.field, ref.direction.value if ref.direction else None)
            for ref in (meta.references or [] if meta else [])
        ]
        name = f"{prefix}{item.name}"
        yield _Field(
            declared,
            collection,
            name,
            declared.field_path(collection, name),
            list(item.data_categories or []),
            meta.identity if meta else None,
            refs,
        )
        yield from _walk(declared, collection, item.fields, f"{name}.")


def _taxonomy(policy: PolicyManifest | None) -> Taxonomy:
    taxonomy = default_taxonomy()
    if policy is None or policy.taxonomy_extensions is None:
        return taxonomy
    ext = policy.taxonomy_extensions
    return taxonomy.extended(
        (item.fides_key for item in ext.data_categories or []),
        (item.fides_key for item in ext.data_uses or []),
    )


def _field_problems(
    datasets: list[DeclaredDataset], policy: PolicyManifest | None
) -> list[FieldProblem]:
    """Each category must be known, and disclosed by the policy.

    A datastore holding a category the policy does not disclose is an error, not a warning:
    the published policy must tell the truth about what is kept.
    """
    taxonomy = _taxonomy(policy)
    disclosed = (
        [key for category in policy.data_categories for key in category.fides_keys]
        if policy is not None
        else None
    )
    identities = [kind.value for kind in IdentityKind]
    problems: list[FieldProblem] = []
    for item in _fields(datasets):
        doc = item.declared.doc
        for index, key in enumerate(item.data_categories):
            where = (*item.path, "data_categories", index)
            if not taxonomy.knows(TaxonomyKind.data_category, key):
                hint = taxonomy.closest(TaxonomyKind.data_category, key)
                extra = f" (did you mean {hint!r}?)" if hint else ""
                problems.append(doc.problem(where, f"unknown data category {key!r}{extra}"))
            elif disclosed is not None and not is_under(key, disclosed):
                problems.append(
                    doc.problem(
                        where,
                        f"{key!r} is not a category the policy discloses: the policy must tell "
                        "the truth; add it to a data category's fides_keys in the policy, or "
                        "stop storing it",
                    )
                )
        if item.identity is not None and item.identity not in identities:
            problems.append(
                doc.problem(
                    (*item.path, "fides_meta", "identity"),
                    f"unknown identity {item.identity!r}: use one of {', '.join(identities)}",
                )
            )
    return problems


# --- references and reachability ----------------------------------------------------------


def _index(datasets: list[DeclaredDataset]) -> dict[CollectionKey, set[str]]:
    known: dict[CollectionKey, set[str]] = {}
    for declared in datasets:
        for collection in declared.dataset.collections:
            known.setdefault((declared.dataset.fides_key, collection.name), set())
    for item in _fields(datasets):
        known[(item.declared.dataset.fides_key, item.collection)].add(item.name)
    return known


def _reference_problems(
    datasets: list[DeclaredDataset],
) -> tuple[set[CollectionKey], list[FieldProblem]]:
    """Problems with references, and the collections holding them (whose reachability is then
    not judged: one mistake, one message)."""
    known = _index(datasets)
    dataset_keys = {key for key, _ in known}
    unresolved: set[CollectionKey] = set()
    problems: list[FieldProblem] = []
    for item in _fields(datasets):
        for index, (dataset, target, _) in enumerate(item.references):
            message = _unresolved(dataset, target, dataset_keys, known)
            if message is not None:
                where = (*item.path, "fides_meta", "references", index, "field")
                problems.append(item.declared.doc.problem(where, message))
                unresolved.add((item.declared.dataset.fides_key, item.collection))
    return unresolved, problems


def _unresolved(
    dataset: str, target: str, dataset_keys: set[str], known: dict[CollectionKey, set[str]]
) -> str | None:
    full = f"{dataset}.{target}"
    if dataset not in dataset_keys:
        return f"reference to {full} does not resolve: no dataset {dataset!r} is declared"
    collection, _, name = target.partition(".")
    if not name:
        return f"reference to {full} does not resolve: write the field as collection.field"
    if (dataset, collection) not in known:
        return (
            f"reference to {full} does not resolve: dataset {dataset!r} has no collection "
            f"{collection!r}"
        )
    if name not in known[(dataset, collection)]:
        return (
            f"reference to {full} does not resolve: collection {collection!r} has no field {name!r}"
        )
    return None


def edges(datasets: list[DeclaredDataset]) -> dict[CollectionKey, set[CollectionKey]]:
    """Which collection's values lead to which: `from` means the referenced field's values are
    used to query this collection, `to` the reverse, no direction both ways (as in Fides)."""
    graph: dict[CollectionKey, set[CollectionKey]] = {}
    for item in _fields(datasets):
        here = (item.declared.dataset.fides_key, item.collection)
        for dataset, target, direction in item.references:
            there = (dataset, target.partition(".")[0])
            if direction in (None, "from"):
                graph.setdefault(there, set()).add(here)
            if direction in (None, "to"):
                graph.setdefault(here, set()).add(there)
    return graph


def _reachability_problems(
    datasets: list[DeclaredDataset], unresolved: set[CollectionKey]
) -> list[FieldProblem]:
    seeds = {
        (item.declared.dataset.fides_key, item.collection)
        for item in _fields(datasets)
        if item.identity is not None
    }
    graph = edges(datasets)
    reached = set(seeds)
    queue = deque(seeds)
    while queue:
        for nxt in graph.get(queue.popleft(), set()) - reached:
            reached.add(nxt)
            queue.append(nxt)
    problems = []
    for declared in datasets:
        for collection in declared.dataset.collections:
            skipped = collection.fides_meta is not None and collection.fides_meta.skip_processing
            key = (declared.dataset.fides_key, collection.name)
            if key in reached or key in unresolved or skipped:
                continue
            problems.append(
                declared.doc.problem(
                    (*declared.collection_path(collection.name), "name"),
                    f"collection {collection.name!r} cannot be reached from an identity: give "
                    "one of its fields an identity, or a reference to a reachable collection",
                )
            )
    return problems


# --- datasets: unique keys and locations --------------------------------------------------


def _duplicates(datasets: list[DeclaredDataset]) -> list[FieldProblem]:
    problems = []
    seen: set[str] = set()
    for declared in datasets:
        key = declared.dataset.fides_key
        if key in seen:
            problems.append(
                declared.doc.problem(
                    (*declared.path, "fides_key"), f"dataset {key!r} is declared twice"
                )
            )
        seen.add(key)
    return problems


def _location_problems(
    datasets: list[DeclaredDataset], policy: PolicyManifest | None
) -> list[FieldProblem]:
    keys = [loc.key for loc in policy.location.locations] if policy is not None else None
    problems = []
    for declared in datasets:
        where = (*declared.path, "fides_meta", "location")
        named = f" (one of the policy's locations: {', '.join(keys)})" if keys else ""
        if declared.location is None:
            message = f"required field is missing: where this datastore is{named}"
            problems.append(declared.doc.problem(where, message))
        elif keys is not None and declared.location not in keys:
            message = (
                f"unknown location {declared.location!r}: use one of the policy's locations: "
                + ", ".join(keys)
            )
            problems.append(declared.doc.problem(where, message))
    return problems


# --- the live database ---------------------------------------------------------------------


def check_database(datasets: list[DeclaredDataset], inspector: Inspector) -> list[FieldProblem]:
    """Declared tables and columns must exist (errors); identity and reference columns should be
    indexed (warnings), or the engine would scan whole tables to find one subject's rows."""
    tables = set(inspector.get_table_names())
    needs_index = _index_wanted(datasets)
    problems: list[FieldProblem] = []
    for declared in datasets:
        key = declared.dataset.fides_key
        for collection in declared.dataset.collections:
            where = declared.collection_path(collection.name)
            if collection.name not in tables:
                message = f"table {collection.name!r} does not exist in the database"
                problems.append(declared.doc.problem((*where, "name"), message))
                continue
            columns = {column["name"] for column in inspector.get_columns(collection.name)}
            indexed = _indexed_columns(inspector, collection.name)
            for item in collection.fields:
                path = (*declared.field_path(collection.name, item.name), "name")
                if item.name not in columns:
                    message = f"column {collection.name}.{item.name} does not exist in the database"
                    problems.append(declared.doc.problem(path, message))
                elif (key, collection.name, item.name) in needs_index and item.name not in indexed:
                    why = needs_index[(key, collection.name, item.name)]
                    message = (
                        f"column {collection.name}.{item.name} is {why} but has no index: "
                        "finding a subject's rows will scan the whole table"
                    )
                    problems.append(declared.doc.problem(path, message, "warning"))
    return problems


def _index_wanted(datasets: list[DeclaredDataset]) -> dict[tuple[str, str, str], str]:
    wanted: dict[tuple[str, str, str], str] = {}
    for item in _fields(datasets):
        here = (item.declared.dataset.fides_key, item.collection, item.name)
        if item.identity is not None:
            wanted[here] = "an identity"
        for dataset, target, _ in item.references:
            collection, _, name = target.partition(".")
            wanted.setdefault(here, "a reference")
            wanted.setdefault((dataset, collection, name), "referenced")
    return wanted


def _indexed_columns(inspector: Inspector, table: str) -> set[str]:
    """Columns a lookup by equality can use an index for: the first column of an index, a
    unique constraint or the primary key."""
    firsts: list[list[str | None]] = [
        list(index["column_names"]) for index in inspector.get_indexes(table)
    ]
    firsts += [list(unique["column_names"]) for unique in inspector.get_unique_constraints(table)]
    firsts.append(list(inspector.get_pk_constraint(table).get("constrained_columns") or []))
    return {columns[0] for columns in firsts if columns and columns[0] is not None}
