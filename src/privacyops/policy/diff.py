"""Every change between two policy manifests, each classified material or not (section 13).

The comparison runs on the manifests' JSON form. Lists of objects are matched by their identity
field (`key`, `state`, `class`...), and lists of plain values are compared as sets, so that
reordering a list is never a change. A material change is one that lets the company do more
with personal information, or gives people less protection; the rules are in `_RULES`, each
with the reason shown to the publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from privacyops.policy.durations import parse_duration
from privacyops.policy.manifest import PolicyManifest

ChangeKind = Literal["added", "removed", "changed"]

# The field that names an item in a list of objects, in order of preference.
IDENTITY_FIELDS = ("key", "state", "class", "category", "channel", "fides_key", "right", "name")

# Plain-English nouns for items of the manifest's lists, by the list's field name.
_NOUNS = {
    "sources": "source",
    "data_categories": "data category",
    "purposes": "purpose",
    "recipients": "recipient",
    "locations": "storage location",
    "security_measures": "security measure",
    "classes": "cookie class",
    "cookies": "cookie",
    "jurisdictions": "state rights of",
    "exceptions": "exception for the right",
    "marketing_channels": "marketing channel",
    "practices": "advertising practice",
    "schedule": "retention rule for",
}
_LONG_TEXT = 80


class Change(BaseModel):
    """One difference between two manifests."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="Where in the manifest, e.g. `purposes[research].data_uses`.")
    kind: ChangeKind
    old: JsonValue = Field(None, description="The value before (absent when added).")
    new: JsonValue = Field(None, description="The value after (absent when removed).")
    material: bool = Field(description="A material change under policy section 13.")
    description: str = Field(description="What changed, in plain English.")
    reason: str | None = Field(None, description="Why the change is material.")


@dataclass(frozen=True)
class Item:
    """A path segment that selects one item of a list, by identity (or by position)."""

    ident: str


Segment = str | Item
Path = tuple[Segment, ...]


@dataclass(frozen=True)
class _Raw:
    path: Path
    kind: ChangeKind
    old: Any
    new: Any
    # True for a value added to or removed from a list of plain values (a set).
    member: bool = False


ANY = Item("*")


@dataclass(frozen=True)
class _Rule:
    pattern: Path
    kind: ChangeKind
    template: str
    reason: str
    applies: Callable[[Any, Any], bool] = lambda _old, _new: True
    show: Callable[[Any], str] = lambda value: str(value)


def _turned_on(old: Any, new: Any) -> bool:
    return old is False and new is True


def _turned_off(old: Any, new: Any) -> bool:
    return old is True and new is False


def _lower(old: Any, new: Any) -> bool:
    return isinstance(old, int) and isinstance(new, int) and new < old


def _longer_period(old: Any, new: Any) -> bool:
    try:
        return parse_duration(str(new)) > parse_duration(str(old))
    except ValueError:
        return False


def _period(value: Any) -> str:
    try:
        return f"{parse_duration(str(value)).describe()} ({value})"
    except ValueError:
        return str(value)


_MORE_DATA = "more personal information is collected"
_NEW_USE = "personal information is used in a new way"
_MORE_SHARING = "personal information goes to more recipients"
_SALE = "a sale or share of personal information starts"
_FEWER_RIGHTS = "people lose a right the policy gave them"

# Section 13 of the policy promises notice before a material change takes effect. These are the
# changes the issue lists as material, plus the ones that weaken a stated safeguard.
_RULES: tuple[_Rule, ...] = (
    _Rule(("data_categories", ANY), "added", "new data category {label}", _MORE_DATA),
    _Rule(
        ("data_categories", ANY, "fides_keys"),
        "added",
        "data category '{item}' now covers {value}",
        _MORE_DATA,
    ),
    _Rule(
        ("special_categories", "actively_collected"),
        "changed",
        "special categories of personal information are now actively collected",
        _MORE_DATA,
        _turned_on,
    ),
    _Rule(
        ("special_categories", "used_for_identification"),
        "changed",
        "special categories of personal information are now used to identify people",
        _NEW_USE,
        _turned_on,
    ),
    _Rule(("purposes", ANY), "added", "new purpose {label}", _NEW_USE),
    _Rule(
        ("purposes", ANY, "data_categories"),
        "added",
        "purpose '{item}' now uses data category {value}",
        _NEW_USE,
    ),
    _Rule(
        ("purposes", ANY, "data_uses"),
        "added",
        "purpose '{item}' now has data use {value}",
        _NEW_USE,
    ),
    _Rule(
        ("purposes", ANY, "requires_consent"),
        "changed",
        "purpose '{item}' no longer asks for consent first",
        _NEW_USE,
        _turned_off,
    ),
    _Rule(
        ("new_purposes", "requires_consent"),
        "changed",
        "new purposes no longer need consent first",
        _NEW_USE,
        _turned_off,
    ),
    _Rule(("recipients", ANY), "added", "new recipient {label}", _MORE_SHARING),
    _Rule(
        ("recipients", ANY, "data_categories"),
        "added",
        "recipient '{item}' now receives data category {value}",
        _MORE_SHARING,
    ),
    # CCPA 1798.120 and the state laws modelled on it: a sale or a share needs an opt-out.
    _Rule(
        ("recipients", ANY, "sale"),
        "changed",
        "personal information is now sold to recipient '{item}'",
        _SALE,
        _turned_on,
    ),
    _Rule(
        ("recipients", ANY, "share"),
        "changed",
        "personal information is now shared with recipient '{item}' for targeted advertising",
        _SALE,
        _turned_on,
    ),
    _Rule(
        ("sharing", "sells_personal_information"),
        "changed",
        "the policy now says personal information is sold",
        _SALE,
        _turned_on,
    ),
    _Rule(
        ("sharing", "shares_for_targeted_advertising"),
        "changed",
        "the policy now says personal information is shared for targeted advertising",
        _SALE,
        _turned_on,
    ),
    _Rule(
        ("retention", "schedule", ANY, "period"),
        "changed",
        "retention of '{item}' lengthened from {old} to {new}",
        "personal information is kept longer",
        _longer_period,
        _period,
    ),
    _Rule(("rights", "everyone"), "removed", "right {value} removed for everyone", _FEWER_RIGHTS),
    _Rule(
        ("rights", "jurisdictions", ANY),
        "removed",
        "state rights of {item} residents removed",
        _FEWER_RIGHTS,
    ),
    _Rule(
        ("rights", "jurisdictions", ANY, "rights"),
        "removed",
        "right {value} removed for {item} residents",
        _FEWER_RIGHTS,
    ),
    _Rule(
        ("rights", "jurisdictions", ANY, "exceptions", ANY),
        "added",
        "new exception for {ids[0]} residents: the right {item} is not granted",
        _FEWER_RIGHTS,
    ),
    _Rule(
        ("children", "age_threshold"),
        "changed",
        "children's age threshold lowered from {old} to {new}",
        "fewer children are protected",
        _lower,
    ),
    _Rule(
        ("changes", "notice_days"),
        "changed",
        "notice before a material change shortened from {old} to {new} days",
        "people get less notice of material changes",
        _lower,
    ),
)


def diff_manifests(old: PolicyManifest, new: PolicyManifest) -> list[Change]:
    """Every change from `old` to `new`, in the manifest's own order (old items, then new)."""
    raws: list[_Raw] = []
    _walk((), _as_json(old), _as_json(new), raws)
    return [_classify(raw) for raw in raws]


def is_material(changes: Sequence[Change]) -> bool:
    return any(change.material for change in changes)


def _as_json(manifest: PolicyManifest) -> dict[str, Any]:
    return manifest.model_dump(mode="json", by_alias=True)


# --- walking the two documents ---------------------------------------------------------------


def _walk(path: Path, old: Any, new: Any, out: list[_Raw]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        names = list(new) + [name for name in old if name not in new]
        for name in names:
            _walk((*path, name), old.get(name), new.get(name), out)
    elif isinstance(old, list) and isinstance(new, list):
        _walk_list(path, old, new, out)
    elif old is None:
        out.append(_Raw(path, "added", None, new))
    elif new is None:
        out.append(_Raw(path, "removed", old, None))
    else:
        out.append(_Raw(path, "changed", old, new))


def _walk_list(path: Path, old: list[Any], new: list[Any], out: list[_Raw]) -> None:
    identity = _identity_field(old, new)
    if identity is not None:
        _walk_keyed(path, _keyed(old, identity), _keyed(new, identity), out)
    elif all(_is_scalar(value) for value in old + new):
        out += [_Raw(path, "removed", value, None, True) for value in old if value not in new]
        out += [_Raw(path, "added", None, value, True) for value in new if value not in old]
    else:
        # No identity to match by: compare position by position.
        size = max(len(old), len(new))
        by_position_old = dict(enumerate(old))
        by_position_new = dict(enumerate(new))
        for index in range(size):
            _walk_item((*path, Item(str(index))), by_position_old, by_position_new, index, out)


def _walk_keyed(path: Path, old: dict[str, Any], new: dict[str, Any], out: list[_Raw]) -> None:
    for ident in list(old) + [ident for ident in new if ident not in old]:
        _walk_item((*path, Item(ident)), old, new, ident, out)


def _walk_item(
    path: Path, old: dict[Any, Any], new: dict[Any, Any], ident: Any, out: list[_Raw]
) -> None:
    if ident not in new:
        out.append(_Raw(path, "removed", old[ident], None))
    elif ident not in old:
        out.append(_Raw(path, "added", None, new[ident]))
    else:
        _walk(path, old[ident], new[ident], out)


def _identity_field(old: list[Any], new: list[Any]) -> str | None:
    for name in IDENTITY_FIELDS:
        if all(_names_items(side, name) for side in (old, new)):
            return name
    return None


def _names_items(items: list[Any], name: str) -> bool:
    if not all(isinstance(item, dict) and _is_scalar(item.get(name)) for item in items):
        return False
    idents = [item[name] for item in items]
    return None not in idents and len(set(idents)) == len(idents)


def _keyed(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return {str(item[name]): item for item in items}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


# --- classifying and describing -------------------------------------------------------------


def render_path(path: Path) -> str:
    """`("purposes", Item("research"), "data_uses")` -> `purposes[research].data_uses`."""
    text = ""
    for segment in path:
        if isinstance(segment, Item):
            text += f"[{segment.ident}]"
        else:
            text += f".{segment}" if text else segment
    return text or "(manifest)"


def _classify(raw: _Raw) -> Change:
    rule = next((r for r in _RULES if _matches(r, raw)), None)
    if rule is None:
        description, reason = _describe(raw), None
    else:
        description, reason = _describe_by_rule(rule, raw), rule.reason
    return Change(
        path=render_path(raw.path),
        kind=raw.kind,
        old=raw.old,
        new=raw.new,
        material=rule is not None,
        description=description,
        reason=reason,
    )


def _matches(rule: _Rule, raw: _Raw) -> bool:
    if rule.kind != raw.kind or len(rule.pattern) != len(raw.path):
        return False
    for want, got in zip(rule.pattern, raw.path, strict=True):
        if want is ANY:
            if not isinstance(got, Item):
                return False
        elif want != got:
            return False
    return rule.applies(raw.old, raw.new)


def _describe_by_rule(rule: _Rule, raw: _Raw) -> str:
    ids = [segment.ident for segment in raw.path if isinstance(segment, Item)]
    value = raw.new if raw.kind == "added" else raw.old
    return rule.template.format(
        ids=ids,
        item=ids[-1] if ids else "",
        label=_label(raw),
        value=f"'{value}'" if _is_scalar(value) else "",
        old=rule.show(raw.old),
        new=rule.show(raw.new),
    )


def _label(raw: _Raw) -> str:
    """`'research' (Research)`: an item's identity, with its name when it has a different one."""
    ident = raw.path[-1].ident if raw.path and isinstance(raw.path[-1], Item) else ""
    value = raw.new if raw.new is not None else raw.old
    name = value.get("name") if isinstance(value, dict) else None
    if isinstance(name, str) and name != ident:
        return f"'{ident}' ({name})"
    return f"'{ident}'"


def _describe(raw: _Raw) -> str:
    where = render_path(raw.path)
    if raw.path and isinstance(raw.path[-1], Item):
        parent = raw.path[-2] if len(raw.path) > 1 else ""
        noun = _NOUNS.get(str(parent), render_path(raw.path[:-1]))
        return f"{noun} {_label(raw)} {raw.kind}"
    if raw.member:
        value = raw.new if raw.kind == "added" else raw.old
        preposition = "to" if raw.kind == "added" else "from"
        return f"{_show(value)} {raw.kind} {preposition} {where}"
    if raw.kind == "added":
        return f"{where} set to {_show(raw.new)}"
    if raw.kind == "removed":
        return f"{where} cleared (was {_show(raw.old)})"
    if _is_long_text(raw.old) or _is_long_text(raw.new):
        return f"{where} reworded"
    return f"{where} changed from {_show(raw.old)} to {_show(raw.new)}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "a new value"


def _is_long_text(value: Any) -> bool:
    return isinstance(value, str) and (len(value) > _LONG_TEXT or "\n" in value)
