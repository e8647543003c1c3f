"""Erasure planning: what an erasure request does to each field of the rows a traversal found.

Pure functions, no datastore: the engine stores the rows it found (every declared field,
primary key included), asks `plan_erasure` per collection in `Graph.erasure_order()`, then
hands `CollectionErasure.deletes` to `Connector.delete` and `.updates` to `Connector.mask`.

Which strategy a personal field gets, most specific first:

1. the strategy its dataset declaration chooses (`fides_meta.masking_strategy`);
2. else, when a retention rule of the policy that the *law* requires (`legal_obligation`)
   covers one of its categories, the field is kept, with the rule's reason: order amounts
   stay for the tax authority while the identity around them is masked;
3. else the default of its category (`DEFAULT_STRATEGIES`).

Fields without categories (ids, timestamps, status) are not personal data: left alone and
not reported. Primary-key fields are never masked: they are how the rows are found again.

Every strategy is deterministic, so planning the same erasure twice gives the same values and
the connectors then report 0 rows changed. That holds only when the caller passes the ORIGINAL
rows stored by the access phase: `hash` over an already hashed value would hash it again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

from privacyops.connectors.datasets import MASKING_STRATEGIES, CollectionKey
from privacyops.connectors.graph import CollectionNode, FieldInfo, Graph
from privacyops.connectors.port import Row
from privacyops.errors import PrivacyOpsError
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.taxonomy import is_under

Action = Literal["masked", "deleted", "kept"]

# The default strategy of a fideslang category, for fields whose declaration chooses none.
# The longest matching key wins; a category under none of them gets `FALLBACK_STRATEGY`.
#
# - `null` wherever the value itself is the personal data (names, contact details, ids,
#   demographics, credentials, payment details, device and location data, behaviour,
#   preferences, sensor recordings, special categories): nothing of it is worth keeping, and
#   null is what Fides' `null_rewrite` does by default.
# - `redact` for content a person wrote (messages, feedback, reviews): the words go, the
#   shape stays, so a ticket keeps its place and length in reports without saying anything.
#
# `hash`, `random` and `delete_row` are never defaults: each is a choice about one datastore
# (a unique column, a NOT NULL column, a row that means nothing without the person) that only
# its declaration can make.
DEFAULT_STRATEGIES: Mapping[str, str] = MappingProxyType(
    {
        "user.name": "null",
        "user.contact": "null",
        "user.demographic": "null",
        "user.unique_id": "null",
        "user.account": "null",
        "user.authorization": "null",
        "user.financial": "null",
        "user.payment": "null",
        "user.government_id": "null",
        "user.device": "null",
        "user.location": "null",
        "user.behavior": "null",
        "user.privacy_preferences": "null",
        "user.sensor": "null",
        "user.biometric": "null",
        "user.health_and_medical": "null",
        "user.criminal_history": "null",
        "user.content": "redact",
    }
)
FALLBACK_STRATEGY = "null"

# When a field's categories have different defaults, the one that erases most wins.
_THOROUGHNESS = {"delete_row": 5, "null": 4, "random": 3, "redact": 2, "hash": 1}

_HASH_HEX_LENGTH = 64  # hex digits of an HMAC-SHA256
_EPOCH = datetime(1970, 1, 1)
_TEMPORAL_SPAN_DAYS = 50 * 365  # hashed or random dates fall within 50 years of the epoch
_PRIMARY_KEY_REASON = "primary key: kept so that the row can be found again"


class ErasureError(PrivacyOpsError):
    """A collection cannot be erased as declared; the message names the collection and field."""

    status_code = 422
    title = "Erasure cannot be planned"


# --- the rules from the policy -------------------------------------------------------------


@dataclass(frozen=True)
class LegalRetention:
    """A retention rule the law requires: the fields it covers survive an erasure request."""

    category: str  # the policy's category key (e.g. `transaction`)
    fides_keys: tuple[str, ...]  # the fideslang keys that category covers
    period: str  # ISO 8601 duration
    reason: str
    legal_obligation: str


@dataclass(frozen=True)
class ErasureRules:
    """What the policy says an erasure keeps, and the default strategy per category."""

    retentions: tuple[LegalRetention, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=lambda: DEFAULT_STRATEGIES)

    def __post_init__(self) -> None:
        for key, strategy in self.defaults.items():
            _check_strategy(strategy, f"default strategy for {key}")

    @classmethod
    def from_manifest(
        cls, manifest: PolicyManifest, defaults: Mapping[str, str] | None = None
    ) -> ErasureRules:
        """Only rules with a `legal_obligation` keep data from an erasure: a period the company
        chose for itself ends when the person asks for deletion."""
        kept = []
        for rule in manifest.retention.schedule:
            if not rule.legal_obligation:
                continue
            category = manifest.category(rule.category)
            if category is None:
                raise ErasureError(
                    f"retention.schedule: rule for {rule.category!r} names no declared category"
                )
            kept.append(
                LegalRetention(
                    rule.category,
                    tuple(category.fides_keys),
                    rule.period,
                    rule.reason,
                    rule.legal_obligation,
                )
            )
        chosen = DEFAULT_STRATEGIES if defaults is None else MappingProxyType(dict(defaults))
        return cls(tuple(kept), chosen)

    def kept_by_law(self, info: FieldInfo) -> LegalRetention | None:
        """The first law-required rule covering one of the field's categories (a category is
        covered when it is one of the rule's keys or a descendant of one)."""
        for retention in self.retentions:
            if any(is_under(key, retention.fides_keys) for key in info.categories):
                return retention
        return None

    def default_strategy(self, category: str) -> str:
        matches = [root for root in self.defaults if is_under(category, [root])]
        if not matches:
            return FALLBACK_STRATEGY
        return self.defaults[max(matches, key=len)]

    def category_default(self, info: FieldInfo) -> str:
        """The most thorough default among the field's categories."""
        found = [self.default_strategy(key) for key in info.categories] or [FALLBACK_STRATEGY]
        return max(found, key=lambda strategy: _THOROUGHNESS[strategy])


def _check_strategy(strategy: str, where: str) -> None:
    if strategy not in MASKING_STRATEGIES:
        allowed = ", ".join(MASKING_STRATEGIES)
        raise ErasureError(f"{where}: unknown masking strategy {strategy!r}: use one of {allowed}")


# --- the strategies ------------------------------------------------------------------------


def _canonical(value: Any) -> bytes:
    """Equal values give equal bytes, whatever table they come from (5 and "5" alike), so that
    keyed hashes stay linkable across tables."""
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    elif isinstance(value, bytes):
        return value
    elif isinstance(value, int) and not isinstance(value, bool):
        text = _int_text(value)
    else:
        text = str(value)
    return text.encode("utf-8", "surrogatepass")


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # longer than Python converts to decimal: hex says the same
        return hex(value)


def _stream(key: bytes, message: bytes, size: int) -> bytes:
    """`size` pseudo-random bytes from HMAC blocks: deterministic for one key and message."""
    blocks = []
    for counter in range(-(-size // 32)):
        blocks.append(hmac.new(key, message + counter.to_bytes(4, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:size]


def _number_like(value: int | float | Decimal, seed: int, length: int | None) -> Any:
    """A number of the original's type with as many integer digits (fewer if `length` caps
    them), so it fits wherever the original did; infinities and NaN count as one digit."""
    finite = not _is_special(value)
    digits = _digits(abs(int(value))) if finite else 1
    if length is not None:
        digits = max(1, min(digits, length))
    low = 0 if digits == 1 else 10 ** (digits - 1)
    number = low + seed % (10**digits - low)
    if finite and value < 0:
        number = -number
    if isinstance(value, Decimal):
        return _decimal_like(value, number)
    if isinstance(value, float):
        return float(number)
    return number


def _digits(number: int) -> int:
    """Decimal digits of a non-negative int, without `str` (which refuses very long ints)."""
    digits = max(1, int(number.bit_length() * 0.30102999566398120))
    while 10**digits <= number:
        digits += 1
    while digits > 1 and 10 ** (digits - 1) > number:
        digits -= 1
    return digits


def _decimal_like(value: Decimal, number: int) -> Decimal:
    """Keep the original's decimal places (a NUMERIC(10, 2) gets two), where they fit."""
    result = Decimal(number)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        try:
            return result.quantize(Decimal(1).scaleb(exponent))
        except InvalidOperation:
            return result
    return result


def _is_special(value: int | float | Decimal) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Decimal):
        return not value.is_finite()
    return False


def _temporal_like(value: date | time, seed: int) -> date | time:
    """A date or time of the same type near the epoch, keeping the time zone."""
    if isinstance(value, datetime):
        shift = timedelta(seconds=seed % (_TEMPORAL_SPAN_DAYS * 86400))
        return (_EPOCH + shift).replace(tzinfo=value.tzinfo)
    if isinstance(value, date):
        return _EPOCH.date() + timedelta(days=seed % _TEMPORAL_SPAN_DAYS)
    seconds = seed % 86400
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, tzinfo=value.tzinfo)


def _as_type(value: Any, info: FieldInfo) -> Any:
    """The value as its declared type says: a declared integer read as "42" is the number 42."""
    if isinstance(value, str) and info.data_type in ("integer", "float"):
        try:
            return int(value) if info.data_type == "integer" else float(value)
        except ValueError:
            return value
    return value


def _fit(text: str, info: FieldInfo) -> str:
    return text[: info.length] if info.length is not None else text


def hash_value(value: Any, info: FieldInfo, key: bytes) -> Any:
    """HMAC-SHA256 of the value under `key`: hex, cut to the declared length. Equal values hash
    equal in every table (a loyalty id stays linkable), and nobody without the key can tell
    which value it was. Numbers, booleans and dates get a value of their own type."""
    value = _as_type(value, info)
    digest = hmac.new(key, _canonical(value), hashlib.sha256)
    return _shaped(value, info, digest.digest(), lambda: _fit(digest.hexdigest(), info))


def random_value(value: Any, info: FieldInfo, key: bytes, where: str, row_key: Any) -> Any:
    """A value derived from `key`, the field's place (`dataset.collection.field`) and the row's
    key, not from the original: nothing about the original survives except its shape (same
    length, letters for letters, digits for digits, separators kept), and a re-run gives the
    same value."""
    value = _as_type(value, info)
    message = b"random\x00" + where.encode("utf-8") + b"\x00" + _canonical(row_key)
    seed = _stream(key, message, 32)
    if not isinstance(value, str):
        return _shaped(value, info, seed, lambda: _random_text(str(value), info, key, message))
    return _random_text(value, info, key, message)


def _random_text(text: str, info: FieldInfo, key: bytes, message: bytes) -> str:
    text = _fit(text, info)
    pool = _stream(key, message + b"\x00text", len(text))
    chars = []
    for char, byte in zip(text, pool, strict=True):
        if char.isdigit():
            chars.append(string.digits[byte % 10])
        elif _kept_in_format(char):
            chars.append(char)
        elif char.isupper():
            chars.append(string.ascii_uppercase[byte % 26])
        else:
            chars.append(string.ascii_lowercase[byte % 26])
    return "".join(chars)


def _shaped(value: Any, info: FieldInfo, seed: bytes, text: Callable[[], str]) -> Any:
    """A hash or random value of the original's type, from `seed`; text otherwise."""
    number = int.from_bytes(seed[:8], "big")
    if isinstance(value, bool):
        return bool(number & 1)
    if isinstance(value, int | float | Decimal):
        return _number_like(value, number, info.length)
    if isinstance(value, date | time):
        return _temporal_like(value, number)
    return text()


def redact_value(value: Any, info: FieldInfo) -> Any:
    """Keep the format, lose the content: letters become x (X for capitals), digits 0,
    separators and punctuation stay, the length stays (cut to the declared length).
    "Jane Doe <jane@example.com>" becomes "Xxxx Xxx <xxxx@xxxxxxx.xxx>". Digits become 0
    rather than * so that a digits-only column (a ZIP code, the last four of a card) still
    holds digits. Numbers become 0, booleans false, dates the epoch; containers are redacted
    inside."""
    value = _as_type(value, info)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, Decimal):
        return Decimal(0)
    if isinstance(value, datetime):
        return _EPOCH.replace(tzinfo=value.tzinfo)
    if isinstance(value, date):
        return _EPOCH.date()
    if isinstance(value, time):
        return time(0, tzinfo=value.tzinfo)
    if isinstance(value, dict):
        return {name: redact_value(item, FieldInfo(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item, FieldInfo("item")) for item in value]
    return _fit("".join(_redact_char(char) for char in str(value)), info)


def _kept_in_format(char: str) -> bool:
    """Separators and punctuation (any script) and ASCII symbols such as @ + $ carry the
    format, not the person."""
    return char.isspace() or char in string.punctuation or unicodedata.category(char)[0] in "PZ"


def _redact_char(char: str) -> str:
    if char.isdigit():
        return "0"
    if _kept_in_format(char):
        return char
    return "X" if char.isupper() else "x"


def mask_value(
    strategy: str, value: Any, info: FieldInfo, key: bytes, where: str, row_key: Any
) -> Any:
    """The masked form of one value. None stays None: there is nothing to erase. `delete_row`
    is decided per row, not per value: here it nulls the value (a row kept by law)."""
    if value is None or strategy in ("null", "delete_row"):
        return None
    if strategy == "hash":
        return hash_value(value, info, key)
    if strategy == "random":
        return random_value(value, info, key, where, row_key)
    if strategy == "redact":
        return redact_value(value, info)
    _check_strategy(strategy, where)
    raise AssertionError("unreachable")  # pragma: no cover


# --- the plan for one collection ------------------------------------------------------------


@dataclass(frozen=True)
class FieldOutcome:
    """What an erasure did to one field across the collection's rows, and why."""

    field: str
    action: Action
    strategy: str | None
    reason: str | None
    rows: int

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "action": self.action,
            "strategy": self.strategy,
            "reason": self.reason,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class CollectionErasure:
    """The plan for one collection: the connector calls to make, and what to report.

    `updates` and `deletes` are keyed by `key_field` values; they carry masked values only,
    never originals. `outcomes` and `summary()` carry field names, counts and reasons only.
    """

    key: CollectionKey
    key_field: str
    updates: dict[Any, dict[str, Any]] = field(default_factory=dict)
    deletes: list[Any] = field(default_factory=list)
    outcomes: list[FieldOutcome] = field(default_factory=list)
    found: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.key[0],
            "collection": self.key[1],
            "found": self.found,
            "deleted": len(self.deletes),
            "outcomes": [outcome.as_json() for outcome in self.outcomes],
            "text": self.text(),
        }

    def text(self) -> str:
        """One line for the request's result, e.g. "found 2 rows; masked email (hash) in 2;
        kept total_cents: Tax and accounting records, ..."."""
        parts = [f"found {_rows(self.found)}" if self.found else "found no rows"]
        deleted = [o.field for o in self.outcomes if o.action == "deleted"]
        if deleted:
            parts.append(f"deleted {_rows(len(self.deletes))} ({', '.join(deleted)})")
        masked: dict[tuple[str | None, int], list[str]] = {}
        kept: dict[str | None, list[str]] = {}
        for outcome in self.outcomes:
            if outcome.action == "masked":
                masked.setdefault((outcome.strategy, outcome.rows), []).append(outcome.field)
            elif outcome.action == "kept":
                kept.setdefault(outcome.reason, []).append(outcome.field)
        for (strategy, rows), names in masked.items():
            parts.append(f"masked {', '.join(names)} ({strategy}) in {_rows(rows)}")
        for reason, names in kept.items():
            parts.append(f"kept {', '.join(names)}: {reason}")
        return "; ".join(parts)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@dataclass(frozen=True)
class _Decision:
    info: FieldInfo
    strategy: str | None  # None: kept
    reason: str | None


def _decide(info: FieldInfo, rules: ErasureRules) -> _Decision:
    """Declared strategy, else law-required retention, else the category default."""
    if info.primary_key:
        return _Decision(info, None, _PRIMARY_KEY_REASON)
    if info.strategy is not None:
        return _Decision(info, info.strategy, None)
    retention = rules.kept_by_law(info)
    if retention is not None:
        return _Decision(info, None, retention.reason)
    return _Decision(info, rules.category_default(info), None)


def choose_key_field(node: CollectionNode, graph: Graph | None = None) -> str:
    """The field whose value finds each row again: the primary key when it is one field; for a
    composite or missing primary key, the first identity or reference field (in declaration
    order; reference fields are known from `graph`). Such a field may match several rows:
    they are then erased together, which `plan_erasure` allows only when they need the same
    values."""
    primary = node.spec.primary_key
    if len(primary) == 1:
        return primary[0]
    referenced: set[str] = set()
    if graph is not None:
        referenced |= {e.source_field for e in graph.outgoing(node.key)}
        referenced |= {e.target_field for e in graph.incoming(node.key)}
    for name, info in node.fields.items():
        if info.identity or name in referenced:
            return name
    raise ErasureError(
        f"{node.dataset}.{node.name}: no primary key, identity or reference field to find its "
        "rows again; mark one field fides_meta.primary_key: true"
    )


def plan_erasure(
    node: CollectionNode,
    rows: Sequence[Row],
    rules: ErasureRules,
    key: bytes,
    *,
    held: str | None = None,
    key_field: str | None = None,
) -> CollectionErasure:
    """Plan the erasure of `rows` (the subject's rows of `node`, as the access phase stored
    them: ORIGINAL values, or `hash` would hash its own output on a re-run).

    `key` is the masking key (HMAC): the same key for every collection, so hashed values stay
    linkable across tables. `held` is the reason of a legal hold on the subject: nothing is
    changed, and every personal field is reported kept for that reason. A row is deleted when
    a field of it is declared `delete_row`, unless the law keeps another field of it: then the
    row stays, its other personal fields masked (the `delete_row` ones nulled), and the
    outcome says why. `key_field` defaults to `choose_key_field(node)`.
    """
    if not key:
        raise ErasureError(f"{node.dataset}.{node.name}: the masking key is empty")
    key_field = key_field or choose_key_field(node)
    if key_field not in node.fields:
        raise ErasureError(f"{node.dataset}.{node.name}: key field {key_field!r} is not declared")
    rows = _distinct(node, rows, key_field)
    plan = CollectionErasure(node.key, key_field, found=len(rows))
    decisions = [_decide(info, rules) for info in node.fields.values() if info.categories]
    for decision in decisions:
        if decision.strategy is not None:
            _check_strategy(decision.strategy, f"{node.dataset}.{node.name}.{decision.info.name}")
    if held is not None:
        reason = f"legal hold: {held}" if held.strip() else "legal hold"
        for decision in decisions:
            plan.outcomes.extend(_kept(decision.info.name, reason, rows))
        return plan
    _remove_or_mask(plan, node, rows, decisions, key)
    return plan


def _distinct(node: CollectionNode, rows: Sequence[Row], key_field: str) -> list[Row]:
    """Rows found twice (by two paths of the traversal) count once; rows without a key value
    cannot be found again and stop the plan."""
    seen: dict[bytes, Row] = {}
    for row in rows:
        value = row.get(key_field)
        if value is None:
            raise ErasureError(
                f"{node.dataset}.{node.name}.{key_field}: a found row has no value for its key "
                "field, so it cannot be found again to erase it"
            )
        seen.setdefault(_canonical(sorted(row.items(), key=lambda item: item[0])), row)
    return list(seen.values())


def _remove_or_mask(
    plan: CollectionErasure,
    node: CollectionNode,
    rows: list[Row],
    decisions: list[_Decision],
    key: bytes,
) -> None:
    deleting = [d.info.name for d in decisions if d.strategy == "delete_row"]
    by_law = [d for d in decisions if d.strategy is None and not d.info.primary_key]
    if deleting and not by_law:
        keys = list(dict.fromkeys(row[plan.key_field] for row in rows))
        _hashable(node, plan.key_field, keys)
        plan.deletes.extend(keys)
        reason = f"row deleted: {', '.join(deleting)} declared delete_row"
        plan.outcomes.extend(
            FieldOutcome(d.info.name, "deleted", "delete_row", reason, len(rows))
            for d in decisions
            if rows
        )
        return
    masking = [d for d in decisions if d.strategy is not None]
    _plan_updates(plan, node, rows, masking, key)
    # The row stays for the law-kept fields: say so on the fields that asked for its deletion.
    kept_for = ", ".join(d.info.name for d in by_law)
    stayed = f"row kept for {kept_for}: {by_law[0].reason}" if by_law else None
    for decision in decisions:
        name = decision.info.name
        if decision.strategy is None:
            plan.outcomes.extend(_kept(name, decision.reason, rows))
            continue
        holding = sum(1 for row in rows if row.get(name) is not None)
        if not holding:
            continue
        if decision.strategy == "delete_row":
            plan.outcomes.append(FieldOutcome(name, "masked", "null", stayed, holding))
        else:
            plan.outcomes.append(FieldOutcome(name, "masked", decision.strategy, None, holding))


def _kept(name: str, reason: str | None, rows: list[Row]) -> list[FieldOutcome]:
    holding = sum(1 for row in rows if row.get(name) is not None)
    return [FieldOutcome(name, "kept", None, reason, holding)] if holding else []


def _plan_updates(
    plan: CollectionErasure,
    node: CollectionNode,
    rows: list[Row],
    masking: list[_Decision],
    key: bytes,
) -> None:
    """The masked values of each row, keyed by its key field. Rows sharing a key value (a
    non-unique fallback key) are written together, so they must need the same values."""
    planned: dict[Any, dict[str, Any]] = {}
    for row in rows:
        row_key = row[plan.key_field]
        _hashable(node, plan.key_field, [row_key])
        values = _row_updates(node, row, row_key, masking, key)
        if row_key in planned and planned[row_key] != values:
            raise ErasureError(
                f"{node.dataset}.{node.name}.{plan.key_field}: several found rows share one "
                "value of this key field but need different masked values; declare a "
                "single-field primary key (fides_meta.primary_key)"
            )
        planned[row_key] = values
    plan.updates.update({row_key: values for row_key, values in planned.items() if values})


def _row_updates(
    node: CollectionNode, row: Row, row_key: Any, masking: list[_Decision], key: bytes
) -> dict[str, Any]:
    values = {}
    for decision in masking:
        info = decision.info
        original = row.get(info.name)
        if original is None or decision.strategy is None:
            continue  # nothing to erase; re-runs report no change
        where = f"{node.dataset}.{node.name}.{info.name}"
        masked = mask_value(decision.strategy, original, info, key, where, row_key)
        if masked != original or type(masked) is not type(original):
            values[info.name] = masked
    return values


def _hashable(node: CollectionNode, key_field: str, keys: Sequence[Any]) -> None:
    for value in keys:
        try:
            hash(value)
        except TypeError:
            raise ErasureError(
                f"{node.dataset}.{node.name}.{key_field}: a key value is not a scalar; "
                "choose a scalar key field"
            ) from None


__all__ = [
    "DEFAULT_STRATEGIES",
    "FALLBACK_STRATEGY",
    "CollectionErasure",
    "ErasureError",
    "ErasureRules",
    "FieldOutcome",
    "LegalRetention",
    "choose_key_field",
    "hash_value",
    "mask_value",
    "plan_erasure",
    "random_value",
    "redact_value",
]
