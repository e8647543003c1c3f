"""Rules that relate one part of a manifest to another, and the manifest to fideslang.

The checks read the plain document (the YAML data, or a validated manifest dumped back to it)
and skip whatever is malformed, so that they also run on a file whose structure is wrong:
a bad duration and an undeclared category in the same file are reported together. Each check
returns findings rather than raising, with the exact path of the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from privacyops.policy.findings import Finding
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.states import state_name
from privacyops.policy.taxonomy import (
    IDENTIFICATION_USE_KEYS,
    SPECIAL_CATEGORY_KEYS,
    Taxonomy,
    TaxonomyKind,
    default_taxonomy,
    is_under,
)
from privacyops.policy.yamlsource import Path, path_to_field

Item = tuple[Path, Mapping[str, Any]]


def check_manifest(manifest: PolicyManifest) -> list[Finding]:
    """Every consistency problem of a structurally valid manifest."""
    return check_document(manifest.model_dump(mode="json", by_alias=True))


def check_document(data: object) -> list[Finding]:
    """Every consistency problem of a manifest document, even one whose structure is wrong."""
    if not isinstance(data, Mapping):
        return []
    doc = _Document(data)
    findings: list[Finding] = []
    for check in _CHECKS:
        findings += check(doc)
    return findings


# --- tolerant access to the document -------------------------------------------------------


class _Document:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def get(self, path: Path) -> Any:
        node: Any = self.data
        for part in path:
            if isinstance(part, str) and isinstance(node, Mapping):
                node = node.get(part)
            elif isinstance(part, int) and isinstance(node, list) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def items(self, path: Path) -> list[Item]:
        """The mappings of the list at `path`, each with its own path."""
        value = self.get(path)
        if not isinstance(value, list):
            return []
        return [((*path, i), item) for i, item in enumerate(value) if isinstance(item, Mapping)]

    def declared(self, path: Path, field: str = "key") -> set[str]:
        return {key for _, key in _texts(self.items(path), field)}

    def flag(self, path: Path) -> bool | None:
        value = self.get(path)
        return value if isinstance(value, bool) else None


def _text(item: Mapping[str, Any], field: str) -> str | None:
    value = item.get(field)
    return value if isinstance(value, str) else None


def _texts(items: list[Item], field: str) -> Iterator[tuple[Path, str]]:
    for path, item in items:
        value = _text(item, field)
        if value is not None:
            yield (*path, field), value


def _strings(path: Path, item: Mapping[str, Any], field: str) -> Iterator[tuple[Path, str]]:
    """The string entries of a list field, each with its own path."""
    values = item.get(field)
    if isinstance(values, list):
        for i, value in enumerate(values):
            if isinstance(value, str):
                yield (*path, field, i), value


def _name(item: Mapping[str, Any], field: str = "key") -> str:
    value = item.get(field)
    return repr(value) if isinstance(value, str) else "(unnamed)"


def _quoted(keys: set[str] | list[str]) -> str:
    return ", ".join(repr(k) for k in sorted(keys)) or "none"


# --- taxonomy ------------------------------------------------------------------------------

_EXTENSION_LISTS = {
    TaxonomyKind.data_category: ("taxonomy_extensions", "data_categories"),
    TaxonomyKind.data_use: ("taxonomy_extensions", "data_uses"),
}


def _taxonomy(doc: _Document) -> Taxonomy:
    base = default_taxonomy()
    return base.extended(
        (
            key
            for _, key in _texts(
                doc.items(_EXTENSION_LISTS[TaxonomyKind.data_category]), "fides_key"
            )
        ),
        (key for _, key in _texts(doc.items(_EXTENSION_LISTS[TaxonomyKind.data_use]), "fides_key")),
    )


def _check_extensions(doc: _Document) -> list[Finding]:
    base = default_taxonomy()
    full = _taxonomy(doc)
    findings: list[Finding] = []
    for kind, list_path in _EXTENSION_LISTS.items():
        list_field = path_to_field(list_path)
        for path, item in doc.items(list_path):
            key = _text(item, "fides_key")
            parent = _text(item, "parent_key")
            if key is not None and base.knows(kind, key):
                findings.append(
                    Finding(
                        (*path, "fides_key"),
                        f"{key!r} is already a {kind} key of fideslang's default taxonomy; "
                        f"remove it from {list_field}",
                    )
                )
            if parent is None:
                continue
            if not full.knows(kind, parent):
                findings.append(
                    Finding(
                        (*path, "parent_key"),
                        f"parent {parent!r} is not a known {kind} key (fideslang's default "
                        f"taxonomy or {list_field}){_suggestion(full, kind, parent)}",
                    )
                )
            elif key is not None and not key.startswith(parent + "."):
                findings.append(
                    Finding(
                        (*path, "fides_key"),
                        f"{key!r} must start with its parent key followed by a dot "
                        f"({parent + '.'!r})",
                    )
                )
    return findings


def _suggestion(taxonomy: Taxonomy, kind: TaxonomyKind, key: str) -> str:
    closest = taxonomy.closest(kind, key)
    return f"; did you mean {closest!r}?" if closest else ""


def _unknown_key(taxonomy: Taxonomy, kind: TaxonomyKind, path: Path, key: str) -> Finding:
    where = (
        "fideslang's default taxonomy"
        if kind is TaxonomyKind.data_subject
        else f"fideslang's default taxonomy nor {path_to_field(_EXTENSION_LISTS[kind])}"
    )
    return Finding(
        path, f"unknown {kind} key {key!r}: not in {where}{_suggestion(taxonomy, kind, key)}"
    )


def _check_taxonomy_keys(doc: _Document) -> list[Finding]:
    taxonomy = _taxonomy(doc)
    references: list[tuple[TaxonomyKind, Path, str]] = []
    for path, item in doc.items(("data_categories",)):
        references += [
            (TaxonomyKind.data_category, p, k) for p, k in _strings(path, item, "fides_keys")
        ]
    for path, item in doc.items(("purposes",)):
        references += [(TaxonomyKind.data_use, p, k) for p, k in _strings(path, item, "data_uses")]
    references += [
        (TaxonomyKind.data_subject, p, k) for p, k in _strings((), doc.data, "data_subjects")
    ]
    return [
        _unknown_key(taxonomy, kind, path, key)
        for kind, path, key in references
        if not taxonomy.knows(kind, key)
    ]


# --- duplicates ----------------------------------------------------------------------------

# (list, field that must be unique in it, what the field is called in messages)
_UNIQUE = [
    (("sources",), "key", "source key"),
    (("data_categories",), "key", "category key"),
    (("purposes",), "key", "purpose key"),
    (("recipients",), "key", "recipient key"),
    (("location", "locations"), "key", "location key"),
    (("security_measures",), "key", "security measure key"),
    (("advertising", "practices"), "key", "advertising practice key"),
    (("advertising", "marketing_channels"), "channel", "marketing channel"),
    (("cookies", "classes"), "class", "cookie class"),
    (("rights", "jurisdictions"), "state", "state"),
    (("retention", "schedule"), "category", "retention rule for category"),
    (("taxonomy_extensions", "data_categories"), "fides_key", "data category extension"),
    (("taxonomy_extensions", "data_uses"), "fides_key", "data use extension"),
]


def _check_duplicates(doc: _Document) -> list[Finding]:
    findings: list[Finding] = []
    for list_path, field, label in _UNIQUE:
        first: dict[str, Path] = {}
        for path, value in _texts(doc.items(list_path), field):
            if value in first:
                findings.append(
                    Finding(
                        path,
                        f"duplicate {label} {value!r}: already used at "
                        f"{path_to_field(first[value][:-1])}",
                    )
                )
            else:
                first[value] = path
    return findings


# --- references between parts --------------------------------------------------------------


def _check_references(doc: _Document) -> list[Finding]:
    sources = doc.declared(("sources",))
    categories = doc.declared(("data_categories",))
    purposes = doc.declared(("purposes",))
    recipients = doc.declared(("recipients",))
    locations = doc.declared(("location", "locations"))
    findings: list[Finding] = []

    def undeclared(
        owner: str, path: Path, item: Mapping[str, Any], field: str, known: set[str], verb: str
    ) -> None:
        for ref_path, key in _strings(path, item, field):
            if key not in known:
                findings.append(
                    Finding(ref_path, f"{owner} {verb} {key!r}, {_not_declared(field)}")
                )

    for path, item in doc.items(("data_categories",)):
        owner = f"category {_name(item)}"
        undeclared(owner, path, item, "sources", sources, "comes from source")
        undeclared(owner, path, item, "permitted_purposes", purposes, "permits purpose")
    for path, item in doc.items(("purposes",)):
        undeclared(
            f"purpose {_name(item)}", path, item, "data_categories", categories, "uses category"
        )
    for path, item in doc.items(("recipients",)):
        owner = f"recipient {_name(item)}"
        undeclared(owner, path, item, "data_categories", categories, "receives category")
        undeclared(owner, path, item, "purposes", purposes, "receives data for purpose")
        location = _text(item, "location")
        if location is not None and location not in locations:
            findings.append(
                Finding(
                    (*path, "location"),
                    f"{owner} is stored in location {location!r}, {_not_declared('location')}",
                )
            )
    for path, item in doc.items(("retention", "schedule")):
        category = _text(item, "category")
        if category is not None and category not in categories:
            findings.append(
                Finding(
                    (*path, "category"),
                    f"retention rule for category {category!r}, {_not_declared('data_categories')}",
                )
            )
    for path, item in doc.items(("advertising", "marketing_channels")):
        owner = f"marketing channel {_name(item, 'channel')}"
        undeclared(owner, path, item, "purposes", purposes, "serves purpose")
    for path, item in doc.items(("advertising", "practices")):
        owner = f"advertising practice {_name(item)}"
        undeclared(owner, path, item, "purposes", purposes, "serves purpose")
        undeclared(owner, path, item, "recipients", recipients, "involves recipient")
    return findings


_DECLARED_IN = {
    "sources": "sources",
    "permitted_purposes": "purposes",
    "purposes": "purposes",
    "data_categories": "data_categories",
    "recipients": "recipients",
    "location": "location.locations",
}


def _not_declared(field: str) -> str:
    return f"which the policy does not declare (in {_DECLARED_IN[field]})"


# --- sensitive (special) categories --------------------------------------------------------


def _check_special_keys(doc: _Document) -> list[Finding]:
    """A category holding special-category data must say so, or section 1's rules can't apply."""
    findings: list[Finding] = []
    for path, item in doc.items(("data_categories",)):
        if item.get("sensitive") is True:
            continue
        for key_path, key in _strings(path, item, "fides_keys"):
            if is_under(key, SPECIAL_CATEGORY_KEYS):
                findings.append(
                    Finding(
                        key_path,
                        f"{key!r} is a special category of personal data; category "
                        f"{_name(item)} must be marked sensitive: true",
                    )
                )
    return findings


def _check_sensitive_use(doc: _Document) -> list[Finding]:
    sensitive = {
        key: item
        for (path, item) in doc.items(("data_categories",))
        if item.get("sensitive") is True and (key := _text(item, "key")) is not None
    }
    # Section 1: special categories are never used to identify a person. A policy that says
    # otherwise (used_for_identification: true) is consistent with itself, if unusual.
    identification_allowed = doc.flag(("special_categories", "used_for_identification")) is True
    findings: list[Finding] = []
    for path, item in doc.items(("purposes",)):
        purpose = _text(item, "key")
        reason = None if identification_allowed else _identification_reason(path, item)
        for ref_path, key in _strings(path, item, "data_categories"):
            category = sensitive.get(key)
            if category is None:
                continue
            if reason is not None:
                findings.append(
                    Finding(
                        ref_path,
                        f"special category used for identification: sensitive category {key!r} "
                        f"is used by purpose {_name(item)}, which {reason}, while the policy "
                        "says special categories are not used for identification "
                        "(special_categories.used_for_identification: false)",
                    )
                )
            permitted = category.get("permitted_purposes")
            if isinstance(permitted, list) and purpose not in permitted:
                allowed = [p for p in permitted if isinstance(p, str)]
                findings.append(
                    Finding(
                        ref_path,
                        f"sensitive category {key!r} may only be used for its permitted purposes "
                        f"({_quoted(allowed)}); purpose {_name(item)} is not one of them",
                    )
                )
    return findings


def _identification_reason(path: Path, item: Mapping[str, Any]) -> str | None:
    if item.get("identifies_person") is True:
        return "identifies a person (identifies_person: true)"
    for _, use in _strings(path, item, "data_uses"):
        if is_under(use, IDENTIFICATION_USE_KEYS):
            return f"has the identification data use {use!r}"
    return None


# --- sale, sharing, consent, retention, rights ---------------------------------------------


def _check_sharing(doc: _Document) -> list[Finding]:
    findings: list[Finding] = []
    sells = doc.flag(("sharing", "sells_personal_information"))
    shares = doc.flag(("sharing", "shares_for_targeted_advertising"))
    for path, item in doc.items(("recipients",)):
        if item.get("sale") is True and sells is False:
            findings.append(
                Finding(
                    (*path, "sale"),
                    f"recipient {_name(item)} is marked as a sale, but the policy says it sells "
                    "no personal information (sharing.sells_personal_information: false)",
                )
            )
        if item.get("share") is True and shares is False:
            findings.append(
                Finding(
                    (*path, "share"),
                    f"recipient {_name(item)} is marked as sharing for targeted advertising, but "
                    "the policy says it does not share for targeted advertising "
                    "(sharing.shares_for_targeted_advertising: false)",
                )
            )
    return findings


def _check_consent(doc: _Document) -> list[Finding]:
    return [
        Finding(
            (*path, "requires_consent"),
            f"purpose {_name(item)} has legal basis consent, so consent must be asked before "
            "processing: set requires_consent: true",
        )
        for path, item in doc.items(("purposes",))
        if item.get("legal_basis") == "consent" and item.get("requires_consent") is not True
    ]


def _check_retention_coverage(doc: _Document) -> list[Finding]:
    """Section 11: every category has a retention period."""
    retained = doc.declared(("retention", "schedule"), "category")
    return [
        Finding(path, f"category {key!r} has no retention rule in retention.schedule")
        for path, key in _texts(doc.items(("data_categories",)), "key")
        if key not in retained
    ]


def _check_jurisdictions(doc: _Document) -> list[Finding]:
    findings: list[Finding] = []
    for path, item in doc.items(("rights", "jurisdictions")):
        rights = {right for _, right in _strings(path, item, "rights")}
        state = state_name(_text(item, "state") or "this state")
        for right_path, right in _texts(doc.items((*path, "exceptions")), "right"):
            if right in rights:
                findings.append(
                    Finding(
                        right_path,
                        f"{right!r} is both granted (in rights) and an exception for {state}; "
                        "keep one",
                    )
                )
    return findings


def _check_cookies(doc: _Document) -> list[Finding]:
    # Advertising cookies share data for cross-context advertising, which every state law lets
    # the visitor refuse (e.g. Cal. Civ. Code 1798.120, Va. Code 59.1-577(A)(5)).
    return [
        Finding(
            (*path, "optional"),
            "advertising cookies must be optional: visitors may refuse them",
        )
        for path, item in doc.items(("cookies", "classes"))
        if item.get("class") == "advertising" and item.get("optional") is False
    ]


_CHECKS: list[Callable[[_Document], list[Finding]]] = [
    _check_extensions,
    _check_taxonomy_keys,
    _check_duplicates,
    _check_references,
    _check_special_keys,
    _check_sensitive_use,
    _check_sharing,
    _check_consent,
    _check_retention_coverage,
    _check_jurisdictions,
    _check_cookies,
]
