"""Access and portability packages: what we hold about a person, in three formats.

Pure functions: the engine hands over what it found (`FoundCollection`s), the policy version in
force and a `PackageMeta`; we return the bytes of a JSON document (machine-readable, portable),
a zip of CSV files and a readable HTML page. Storing, encrypting and serving them is the
caller's business.

What every package says, as the law asks of a response to a request to know
(Cal. Civ. Code 1798.110(a) and (c), 11 CCR 7024):

- the categories of personal information we hold about the person, in the policy's own
  plain-language names (1798.110(a)(1));
- for each: the sources it comes from (1798.110(a)(2)), the purposes we use it for
  (1798.110(a)(3)), the recipients it is disclosed to (1798.110(a)(4)), and how long it is kept
  (1798.100(a)(3), which the policy's retention schedule answers);
- the specific pieces of information (1798.110(a)(5)), except what 11 CCR 7024(d) forbids us to
  disclose (see `NEVER_DISCLOSED`): those values never enter any format, and the package says
  which kinds we hold and withheld.

Portability (1798.130(a)(2)(B)): the JSON and CSV formats are "structured, commonly used,
machine-readable" so that the person can take them to another business.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from privacyops.connectors.graph import CollectionNode, FieldInfo, FoundCollection
from privacyops.connectors.port import Row
from privacyops.policy.durations import parse_duration
from privacyops.policy.manifest import DataCategory, PolicyManifest, RecipientKind, RetentionRule
from privacyops.policy.taxonomy import is_under
from privacyops.web.templating import environment

FORMAT = "privacyops.access/1"
PACKAGE_TYPES = ("access", "portability")
NEVER_DISCLOSED_LAW = "Cal. Code Regs. tit. 11, § 7024(d)"
HTML_TEMPLATE = "packages/access.html"

# --- what is never disclosed ---------------------------------------------------------------


@dataclass(frozen=True)
class NeverDisclosed:
    """A kind of information held about a person whose value the law forbids us to disclose."""

    fides_key: str  # the fideslang key; every key under it is covered too
    kind: str  # a stable slug for machines
    held: str  # "your account password ...": completes "We hold ..."

    @property
    def statement(self) -> str:
        return f"We hold {self.held}; the law does not allow us to disclose it."


# 11 CCR 7024(d): "A business shall not disclose in response to a request to know a consumer's
# Social Security number, driver's license number or other government-issued identification
# number, financial account number, any health insurance or medical identification number, an
# account password, security questions and answers, or unique biometric data generated from
# measurements or technical analysis of human characteristics."
# A field under any of these keys is withheld from every format, whatever else it holds. The
# most specific keys come first: the first entry covering a field names what we withheld.
# Payment card numbers are withheld even in part (last four digits): the regulation does not
# say how much of an account number may be shown, so we show none of it.
NEVER_DISCLOSED: tuple[NeverDisclosed, ...] = (
    NeverDisclosed(
        "user.authorization.password",
        "account_password",
        "your account password (stored as a hash or another protected form)",
    ),
    NeverDisclosed(
        "user.authorization.biometric",
        "biometric_credentials",
        "biometric sign-in credentials (such as a fingerprint template)",
    ),
    NeverDisclosed(
        "user.authorization",
        "security_credentials",
        "account security credentials (such as security questions and answers or sign-in keys)",
    ),
    NeverDisclosed(
        "user.government_id",
        "government_id",
        "a government-issued identification number (such as a Social Security, driver's "
        "license or passport number)",
    ),
    NeverDisclosed(
        "user.financial.bank_account", "financial_account", "your bank or financial account number"
    ),
    NeverDisclosed(
        "user.financial.credit_card",
        "payment_card",
        "your payment card number (in full or in part)",
    ),
    NeverDisclosed(
        "user.health_and_medical.insurance_beneficiary_id",
        "health_insurance_id",
        "your health insurance identification number",
    ),
    NeverDisclosed(
        "user.health_and_medical.record_id",
        "medical_id",
        "your medical record identification number",
    ),
    NeverDisclosed(
        "user.biometric",
        "biometric_data",
        "unique biometric data (measurements of your physical characteristics)",
    ),
)


def never_disclosed(info: FieldInfo) -> NeverDisclosed | None:
    """The first `NEVER_DISCLOSED` kind covering any of the field's categories, if one does."""
    return next(
        (
            rule
            for rule in NEVER_DISCLOSED
            if any(is_under(k, [rule.fides_key]) for k in info.categories)
        ),
        None,
    )


# --- inputs and outputs --------------------------------------------------------------------


@dataclass(frozen=True)
class PackageMeta:
    """Who the package is for and under which policy version it was made."""

    request_id: str
    request_type: str  # "access" or "portability"
    generated_at: datetime  # aware; stored in UTC
    policy_version: int
    organization: str  # the manifest's organization name
    state: str | None = None  # the requester's two-letter state code, if known

    def __post_init__(self) -> None:
        if not self.request_id:
            raise ValueError("request_id: must not be empty")
        if self.request_type not in PACKAGE_TYPES:
            raise ValueError(f"request_type: {self.request_type!r} is not one of {PACKAGE_TYPES}")
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("generated_at: must be timezone-aware")
        if self.policy_version < 1:
            raise ValueError("policy_version: must be a positive version number")
        object.__setattr__(self, "generated_at", self.generated_at.astimezone(UTC))

    @classmethod
    def for_manifest(
        cls,
        manifest: PolicyManifest,
        *,
        request_id: str,
        request_type: str,
        generated_at: datetime,
        policy_version: int,
        state: str | None = None,
    ) -> PackageMeta:
        return cls(
            request_id,
            request_type,
            generated_at,
            policy_version,
            manifest.organization.name,
            state,
        )


@dataclass(frozen=True)
class Omission:
    """One field left out of the package: where (`dataset.collection.field`) and why."""

    field: str
    reason: str


@dataclass(frozen=True)
class PackageCounts:
    collections: int  # collections with at least one row
    rows: int
    categories: int  # policy categories present
    withheld_fields: int

    def as_dict(self) -> dict[str, int]:
        return {
            "collections": self.collections,
            "rows": self.rows,
            "categories": self.categories,
            "withheld_fields": self.withheld_fields,
        }


@dataclass(frozen=True)
class AccessPackage:
    json: bytes
    csv_zip: bytes
    html: bytes
    omitted: tuple[Omission, ...]
    counts: PackageCounts


# --- what was found, classified ------------------------------------------------------------


@dataclass
class _Collection:
    node: CollectionNode
    rows: list[Row]
    disclosed: list[str]  # field names in declared order, never-disclosed ones removed

    @property
    def label(self) -> str:
        return f"{self.node.dataset}.{self.node.name}"

    def path(self, name: str) -> str:
        return f"{self.label}.{name}"


@dataclass
class _Category:
    category: DataCategory
    fields: list[str] = field(default_factory=list)  # grouped here (first category in order)
    also_covers: list[str] = field(default_factory=list)  # grouped under an earlier category
    withheld_fields: list[str] = field(default_factory=list)


@dataclass
class _Withheld:
    rule: NeverDisclosed
    fields: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # policy category names


@dataclass
class _Contents:
    meta: PackageMeta
    manifest: PolicyManifest
    collections: list[_Collection]
    categories: list[_Category]
    withheld: list[_Withheld]
    omitted: list[Omission]


def build_access_package(
    found: Sequence[FoundCollection], manifest: PolicyManifest, meta: PackageMeta
) -> AccessPackage:
    """The three formats of one access or portability package, from the same classification."""
    contents = _classify(found, manifest, meta)
    counts = PackageCounts(
        collections=len(contents.collections),
        rows=sum(len(c.rows) for c in contents.collections),
        categories=len(contents.categories),
        withheld_fields=sum(len(w.fields) for w in contents.withheld),
    )
    return AccessPackage(
        json=_render_json(contents),
        csv_zip=_render_csv_zip(contents),
        html=_render_html(contents),
        omitted=tuple(contents.omitted),
        counts=counts,
    )


def _classify(
    found: Sequence[FoundCollection], manifest: PolicyManifest, meta: PackageMeta
) -> _Contents:
    collections = [_collection(node, rows) for node, rows in _merged(found)]
    categories: dict[str, _Category] = {}
    withheld: dict[str, _Withheld] = {}
    omitted: list[Omission] = []
    for collection in collections:
        omitted.extend(_undeclared(collection))
        for name, info in collection.node.fields.items():
            if not _held(collection.rows, name):
                continue  # declared, but no row has a value: nothing held to disclose
            covering = policy_categories(info, manifest)
            rule = never_disclosed(info)
            path = collection.path(name)
            _file_category(categories, covering, path, withheld=rule is not None)
            if rule is not None:
                _file_withheld(withheld, rule, path, covering)
                omitted.append(Omission(path, f"never disclosed ({NEVER_DISCLOSED_LAW})"))
    order = {c.key: i for i, c in enumerate(manifest.data_categories)}
    return _Contents(
        meta=meta,
        manifest=manifest,
        collections=collections,
        categories=sorted(categories.values(), key=lambda c: order[c.category.key]),
        withheld=sorted(withheld.values(), key=lambda w: NEVER_DISCLOSED.index(w.rule)),
        omitted=omitted,
    )


def _merged(found: Sequence[FoundCollection]) -> list[tuple[CollectionNode, list[Row]]]:
    # One entry per collection, in the order found; collections with no rows are left out.
    merged: dict[tuple[str, str], tuple[CollectionNode, list[Row]]] = {}
    for item in found:
        merged.setdefault(item.node.key, (item.node, []))[1].extend(item.rows)
    return [(node, rows) for node, rows in merged.values() if rows]


def _collection(node: CollectionNode, rows: list[Row]) -> _Collection:
    disclosed = [n for n in node.spec.fields if n in node.fields and not _withheld(node, n)]
    return _Collection(node, rows, disclosed)


def _withheld(node: CollectionNode, name: str) -> bool:
    return never_disclosed(node.fields[name]) is not None


def policy_categories(info: FieldInfo, manifest: PolicyManifest) -> list[DataCategory]:
    """The policy categories covering any of the field's fideslang keys, in manifest order.

    A policy category covers a key when one of its `fides_keys` is the key or an ancestor of
    it. Fields with no category (record ids, timestamps) get none and stay as row context.
    """
    return [
        category
        for category in manifest.data_categories
        if any(is_under(key, category.fides_keys) for key in info.categories)
    ]


def _file_category(
    categories: dict[str, _Category], covering: list[DataCategory], path: str, *, withheld: bool
) -> None:
    # The field is shown under the first covering category; later ones list it as covered too,
    # so that each category's disclosure (sources, purposes, recipients) is still given.
    for index, category in enumerate(covering):
        entry = categories.setdefault(category.key, _Category(category))
        if withheld:
            entry.withheld_fields.append(path)
        elif index == 0:
            entry.fields.append(path)
        else:
            entry.also_covers.append(path)


def _file_withheld(
    withheld: dict[str, _Withheld], rule: NeverDisclosed, path: str, covering: list[DataCategory]
) -> None:
    entry = withheld.setdefault(rule.kind, _Withheld(rule))
    entry.fields.append(path)
    for category in covering:
        if category.name not in entry.categories:
            entry.categories.append(category.name)


def _undeclared(collection: _Collection) -> Iterator[Omission]:
    """Row keys no declaration describes: unclassified, so possibly secret; never shown."""
    declared = set(collection.node.fields)
    prefixes = {n.split(".", 1)[0] for n in declared}
    seen: set[str] = set()
    for row in collection.rows:
        for key in row:
            if key not in declared and key not in prefixes and key not in seen:
                seen.add(key)
                yield Omission(collection.path(key), "not declared in the dataset, so unclassified")


def _held(rows: Iterable[Row], name: str) -> bool:
    return any(_value(row, name) is not None for row in rows)


def _value(row: Mapping[str, Any], name: str) -> Any:
    """A declared field's value; nested (document) fields are addressed by their dotted name."""
    if name in row:
        return row[name]
    head, dot, rest = name.partition(".")
    inner = row.get(head)
    return _value(inner, rest) if dot and isinstance(inner, Mapping) else None


# --- disclosures ---------------------------------------------------------------------------

_KIND_LABELS: dict[RecipientKind, str] = {
    RecipientKind.affiliate: "affiliate",
    RecipientKind.processor: "service provider acting on our behalf",
    RecipientKind.third_party: "third party",
    RecipientKind.legal_authority: "legal or government authority",
    RecipientKind.corporate_transaction: "party to a merger, sale or other corporate transaction",
}

_RETENTION_STARTS: dict[str, str] = {
    "collection": "after it is collected",
    "last_activity": "after your last activity",
    "account_closure": "after your account is closed",
    "transaction": "after the transaction",
    "end_of_purpose": "after the purpose it was collected for ends",
}


def disclosure(category: DataCategory, manifest: PolicyManifest) -> dict[str, Any]:
    """One category's disclosures (1798.110(a)(1)-(4), 1798.100(a)(3)), from the policy."""
    sources = {s.key: s for s in manifest.sources}
    rule = next((r for r in manifest.retention.schedule if r.category == category.key), None)
    return {
        "key": category.key,
        "name": category.name,
        "description": category.description,
        "sources": [
            {"key": key, "name": sources[key].name if key in sources else key}
            for key in category.sources
        ],
        "purposes": [
            {"key": p.key, "name": p.name}
            for p in manifest.purposes
            if category.key in p.data_categories
        ],
        "recipients": [
            {"key": r.key, "name": r.name, "kind": r.kind.value, "kind_label": _KIND_LABELS[r.kind]}
            for r in manifest.recipients
            if category.key in r.data_categories
        ],
        "retention": _retention(rule),
    }


def _retention(rule: RetentionRule | None) -> dict[str, str] | None:
    if rule is None:
        return None
    period = parse_duration(rule.period).describe()
    return {
        "period": rule.period,
        "starts": rule.starts.value,
        "text": f"{period} {_RETENTION_STARTS[rule.starts.value]}",
        "reason": rule.reason,
    }


def _category_entries(contents: _Contents) -> list[dict[str, Any]]:
    return [
        {
            **disclosure(entry.category, contents.manifest),
            "fields": entry.fields,
            "also_covers": entry.also_covers,
            "withheld_fields": entry.withheld_fields,
        }
        for entry in contents.categories
    ]


def _withheld_entries(contents: _Contents) -> list[dict[str, Any]]:
    return [
        {
            "kind": w.rule.kind,
            "fides_key": w.rule.fides_key,
            "statement": w.rule.statement,
            "law": NEVER_DISCLOSED_LAW,
            "fields": w.fields,
            "categories": w.categories,
        }
        for w in contents.withheld
    ]


# --- JSON ----------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """A value JSON can carry without loss of meaning: ISO 8601 dates, Decimal as text (no
    float rounding), bytes as base64, non-finite floats as text; unknown types as their text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal | UUID):
        return str(value)
    return str(value)


def _json_rows(collection: _Collection) -> list[dict[str, Any]]:
    return [
        {name: json_safe(_value(row, name)) for name in collection.disclosed}
        for row in collection.rows
    ]


def _request(meta: PackageMeta) -> dict[str, Any]:
    return {
        "id": meta.request_id,
        "type": meta.request_type,
        "state": meta.state,
        "organization": meta.organization,
    }


def _render_json(contents: _Contents) -> bytes:
    """`privacyops.access/1`: stable keys, documented in docs and in the README of the zip."""
    datasets: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for collection in contents.collections:
        datasets.setdefault(collection.node.dataset, {})[collection.node.name] = _json_rows(
            collection
        )
    document = {
        "format": FORMAT,
        "request": _request(contents.meta),
        "policy_version": contents.meta.policy_version,
        "generated_at": contents.meta.generated_at.isoformat(),
        "nothing_found": not contents.collections,
        "datasets": datasets,
        "categories": _category_entries(contents),
        "withheld": _withheld_entries(contents),
    }
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
    return _utf8(text + "\n")


def _utf8(text: str) -> bytes:
    # A lone surrogate (broken text from a datastore) must not sink the whole package.
    return text.encode("utf-8", errors="replace")


# --- CSV zip -------------------------------------------------------------------------------

# Spreadsheet programs run a cell starting with = + - @ (and tab or CR, which some strip
# first) as a formula: a value a person typed into a form could then run when they open their
# own export (CSV injection). Such cells get a leading apostrophe, which spreadsheets hide and
# treat as "text". A value already starting with an apostrophe gets one more, so that reading
# it back is unambiguous: drop one leading apostrophe when there is one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same package gives the same bytes
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for no value, numbers as written, text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)  # a number is never a formula, even when negative
    safe = json_safe(value)
    text = safe if isinstance(safe, str) else json.dumps(safe, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    # RFC 4180: CRLF line ends, quotes doubled, fields with separators quoted. The byte-order
    # mark lets spreadsheet programs recognize UTF-8 and show accented names correctly.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + _utf8(buffer.getvalue())


def _collection_csv(collection: _Collection) -> bytes:
    rows = ([csv_cell(_value(row, n)) for n in collection.disclosed] for row in collection.rows)
    return _csv(collection.disclosed, rows)


def _list_names(items: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(str(item["name"]) for item in items)


def _categories_csv(contents: _Contents) -> bytes:
    header = [
        "category", "name", "description", "fields", "also_covers", "withheld_fields",
        "sources", "purposes", "recipients", "retention", "retention_reason",
    ]  # fmt: skip
    rows = []
    for entry in _category_entries(contents):
        retention = entry["retention"] or {"text": "", "reason": ""}
        recipients = "; ".join(f"{r['name']} ({r['kind_label']})" for r in entry["recipients"])
        values = [
            entry["key"], entry["name"], entry["description"], "; ".join(entry["fields"]),
            "; ".join(entry["also_covers"]), "; ".join(entry["withheld_fields"]),
            _list_names(entry["sources"]), _list_names(entry["purposes"]), recipients,
            retention["text"], retention["reason"],
        ]  # fmt: skip
        rows.append([csv_cell(v) for v in values])
    return _csv(header, rows)


def _zip_name(collection: _Collection) -> str:
    # Names come from declarations, not from the person; still, no path may leave the zip.
    dataset, name = (_UNSAFE_NAME.sub("_", p).strip(".") or "_" for p in collection.node.key)
    return f"{dataset}/{name}.csv"


def _zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the machine that builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _render_csv_zip(contents: _Contents) -> bytes:
    entries = [
        ("README.txt", _utf8(_readme(contents))),
        ("categories.csv", _categories_csv(contents)),
    ]
    names: set[str] = set()
    for collection in contents.collections:
        name = _zip_name(collection)
        while name in names:  # two collections sanitized to the same name
            name = name.removesuffix(".csv") + "_.csv"
        names.add(name)
        entries.append((name, _collection_csv(collection)))
    return _zip(entries)


def _when(meta: PackageMeta) -> str:
    at = meta.generated_at
    return f"{at:%B} {at.day}, {at.year} at {at:%H:%M} UTC"


def _readme_intro(contents: _Contents) -> list[str]:
    meta = contents.meta
    lines = [
        f"Your personal information held by {meta.organization}",
        "",
        f"Request: {meta.request_id} ({meta.request_type})",
        f"Prepared: {_when(meta)}, under version {meta.policy_version} of our privacy policy.",
        "",
    ]
    if not contents.collections:
        return [*lines, "We searched our systems and found no personal information about you.", ""]
    return [
        *lines,
        "This archive holds the personal information we found about you:",
        "- one CSV file per table, in a folder named after the system that holds it;",
        "- categories.csv: the categories of information, where they come from, why we use",
        "  them, who receives them, and how long we keep them (also listed below).",
        "Files are UTF-8 CSV (RFC 4180). A value that begins with = + - @ ' a tab or a",
        "carriage return has an apostrophe added in front, so that spreadsheet programs never",
        "run it as a formula. Columns without a category (record numbers, dates) are record",
        "keeping shown so the rows make sense.",
        "",
    ]


def _readme_category(entry: Mapping[str, Any]) -> list[str]:
    retention = entry["retention"]
    kept = f"{retention['text']}. {retention['reason']}" if retention else "not stated"
    recipients = "; ".join(f"{r['name']} ({r['kind_label']})" for r in entry["recipients"])
    return [
        f"{entry['name']}: {entry['description']}",
        f"  Where we hold it: {'; '.join(entry['fields'] + entry['also_covers']) or 'withheld'}",
        f"  Where it comes from: {_list_names(entry['sources'])}",
        f"  Why we use it: {_list_names(entry['purposes']) or 'none'}",
        f"  Who receives it: {recipients or 'nobody'}",
        f"  How long we keep it: {kept}",
        "",
    ]


def _readme(contents: _Contents) -> str:
    """README.txt: a plain-language explanation of the zip and the disclosures."""
    lines = _readme_intro(contents)
    entries = _category_entries(contents)
    if entries:
        lines += ["CATEGORIES OF PERSONAL INFORMATION", ""]
    for entry in entries:
        lines += _readme_category(entry)
    if contents.withheld:
        lines += ["INFORMATION WE HOLD BUT MAY NOT DISCLOSE", ""]
    for withheld in contents.withheld:
        lines += [f"{withheld.rule.statement} ({', '.join(withheld.fields)})"]
    return "\r\n".join(lines).rstrip() + "\r\n"


# --- HTML ----------------------------------------------------------------------------------


def _label(name: str) -> str:
    return " › ".join(part.replace("_", " ").capitalize() for part in name.split("."))


def _display(value: Any) -> str:
    safe = json_safe(value)
    return safe if isinstance(safe, str) else json.dumps(safe, ensure_ascii=False)


def _html_collection(
    collection: _Collection, index: int, manifest: PolicyManifest
) -> dict[str, Any]:
    columns = [
        {
            "label": _label(name),
            "categories": [
                c.name for c in policy_categories(collection.node.fields[name], manifest)
            ],
        }
        for name in collection.disclosed
    ]
    rows = [
        [None if (v := _value(row, n)) is None else _display(v) for n in collection.disclosed]
        for row in collection.rows
    ]
    return {
        "anchor": f"collection-{index}",
        "dataset": collection.node.dataset,
        "name": collection.node.name,
        "label": collection.label,
        "columns": columns,
        "rows": rows,
    }


def _field_refs(contents: _Contents) -> dict[str, dict[str, str]]:
    """`dataset.collection.field` -> the table holding it, a readable name, and its anchor."""
    refs: dict[str, dict[str, str]] = {}
    for index, collection in enumerate(contents.collections, start=1):
        for name in collection.node.fields:
            refs[collection.path(name)] = {
                "table": collection.label,
                "field": _label(name),
                "anchor": f"collection-{index}",
            }
    return refs


def _render_html(contents: _Contents) -> bytes:
    manifest = contents.manifest
    collections = [
        _html_collection(c, i, manifest) for i, c in enumerate(contents.collections, start=1)
    ]
    text = (
        environment()
        .get_template(HTML_TEMPLATE)
        .render(
            meta=contents.meta,
            when=_when(contents.meta),
            categories=_category_entries(contents),
            collections=collections,
            refs=_field_refs(contents),
            withheld=_withheld_entries(contents),
            law=NEVER_DISCLOSED_LAW,
            format_name=FORMAT,
        )
    )
    return _utf8(text)


__all__ = [
    "FORMAT",
    "NEVER_DISCLOSED",
    "NEVER_DISCLOSED_LAW",
    "AccessPackage",
    "NeverDisclosed",
    "Omission",
    "PackageCounts",
    "PackageMeta",
    "build_access_package",
    "csv_cell",
    "disclosure",
    "json_safe",
    "never_disclosed",
    "policy_categories",
]
