"""Reading and writing one section from its spec (registry.py), segment by segment.

Every segment we implement has a fixed layout, so each field sits at a known bit offset: a
segment is unpacked as one integer (bits.to_int) and each field is a shift and a mask, with the
shifts worked out once per layout (_SegmentCodec). This is what makes the codec as fast per
string as @iabgpp/cmpapi under node (bench/bench_gpp.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from privacyops.consent.gpp.bits import BadCharacter, from_int, to_int
from privacyops.consent.gpp.errors import GppError
from privacyops.consent.gpp.fields import Field, FieldValue, IntField, IntListField
from privacyops.consent.gpp.registry import SPECS, SectionSpec, Segment

_INT, _LIST, _BOOL = 0, 1, 2


def _bounds(allowed: range) -> tuple[int, int]:
    return allowed.start, allowed.stop


@dataclass(frozen=True, slots=True)
class _Step:
    """One field of a compiled segment: where it sits, and what it accepts."""

    field: Field
    name: str
    where: str  # "usnat.SaleOptOut", for errors
    kind: int
    start: int  # first bit, from the start of the segment
    shift: int  # brings the field's first value to the lowest bits of the segment's integer
    width: int
    count: int
    low: int
    high: int  # exclusive


class _SegmentCodec:
    def __init__(self, prefix: str, segment: Segment) -> None:
        self.segment = segment
        self.where = f"{prefix} {segment.kind} segment"
        self.bits = sum(field.bits for field in segment.fields)
        self.chars = -(-self.bits // 6)  # whole characters the fields need
        self.steps = tuple(self._steps(prefix))
        self.plan = tuple(
            (
                step.name,
                step.kind,
                step.shift,
                (1 << step.width) - 1,
                tuple(step.shift - i * step.width for i in range(step.count)),
            )
            for step in self.steps
        )

    def _steps(self, prefix: str) -> list[_Step]:
        steps, start = [], 0
        for field in self.segment.fields:
            kind, width, count, allowed = _BOOL, 1, 1, range(2)
            if isinstance(field, IntField):
                kind, width, allowed = _INT, field.width, field.allowed
            elif isinstance(field, IntListField):
                kind, width, count, allowed = _LIST, field.width, field.count, field.allowed
            where = f"{prefix}.{field.name}"
            # Shift that brings the field's first value down to the lowest bits.
            shift = 6 * self.chars - start - width
            steps.append(
                _Step(field, field.name, where, kind, start, shift, width, count, *_bounds(allowed))
            )
            start += field.bits
        return steps

    def decode(self, text: str, offset: int, strict: bool) -> dict[str, FieldValue]:
        if not text:
            raise GppError(self.where, f"is empty (character {offset})")
        try:
            value = to_int(text)
        except BadCharacter as bad:
            raise GppError(
                self.where,
                f"character {bad.char!r} at position {offset + bad.position} is not base64url",
            ) from None
        if len(text) < self.chars:
            raise self._too_short(len(text), offset)
        # Bits after the fields (padding, or more) are ignored, as the reference library does.
        value >>= 6 * (len(text) - self.chars)
        values = self._unpack(value)
        if strict:
            for step in self.steps:
                step.field.check(values[step.name], step.where)
        if self.segment.included:
            values[self.segment.included] = True
        return values

    def _unpack(self, value: int) -> dict[str, FieldValue]:
        values: dict[str, FieldValue] = {}
        # Plain tuples and locals: this loop is the hot path of decoding.
        for name, kind, shift, mask, shifts in self.plan:
            if kind == _INT:
                values[name] = (value >> shift) & mask
            elif kind == _BOOL:
                values[name] = (value >> shift) & 1 == 1
            else:
                values[name] = [(value >> item) & mask for item in shifts]
        return values

    def _too_short(self, chars: int, offset: int) -> GppError:
        available = 6 * chars
        for step in self.steps:
            if step.start + step.field.bits > available:
                return GppError(
                    self.where,
                    f"ends after {available} bits, before field {step.name} "
                    f"(segment starts at character {offset})",
                )
        raise AssertionError("segment too short but every field fits")  # pragma: no cover

    def absent(self) -> dict[str, FieldValue]:
        """The values an optional segment has when the string leaves it out (library
        defaults), with its `included` field false."""
        values: dict[str, FieldValue] = {f.name: f.default_value() for f in self.segment.fields}
        assert self.segment.included is not None
        values[self.segment.included] = False
        return values

    def encode(self, values: Mapping[str, object]) -> str:
        acc = 0
        for step in self.steps:
            value = values.get(step.name)
            if value is None:
                value = step.field.default_value()
            if step.kind == _INT:
                if type(value) is not int or not step.low <= value < step.high:
                    step.field.check(value, step.where)  # raises, naming the field
                acc = (acc << step.width) | value  # type: ignore[operator]
            elif step.kind == _BOOL:
                if type(value) is not bool:
                    step.field.check(value, step.where)
                acc = (acc << 1) | value  # type: ignore[operator]
            else:
                acc = self._pack_list(acc, step, value)
        return from_int(acc, self.bits)

    @staticmethod
    def _pack_list(acc: int, step: _Step, value: object) -> int:
        if type(value) not in (list, tuple) or len(value) != step.count:  # type: ignore[arg-type]
            step.field.check(value, step.where)
        for item in value:  # type: ignore[attr-defined]
            if type(item) is not int or not step.low <= item < step.high:
                step.field.check(value, step.where)
            acc = (acc << step.width) | item
        return acc


class _SectionCodec:
    def __init__(self, spec: SectionSpec, version: int) -> None:
        self.spec = spec
        self.version = version
        self.segments = tuple(_SegmentCodec(spec.prefix, s) for s in spec.layouts[version])
        self.names = frozenset(spec.field_names(version))


_CODECS: dict[tuple[str, int], _SectionCodec] = {
    (spec.prefix, version): _SectionCodec(spec, version)
    for spec in SPECS.values()
    for version in spec.layouts
}


def decode_section(
    spec: SectionSpec, text: str, *, offset: int = 0, strict: bool = False
) -> dict[str, FieldValue]:
    """The fields of `text`, a section of kind `spec` that starts at character `offset` of the
    whole GPP string (for error messages).

    Like the reference library, bits after the last field are ignored and values are read as
    written; with `strict`, every value must also be one that `encode` accepts.
    """
    parts = text.split(".")
    codec = _CODECS.get((spec.prefix, _version_of(spec, parts[0], offset)))
    if codec is None:
        raise GppError(
            f"{spec.prefix}.{spec.version_field}",
            f"version {_version_of(spec, parts[0], offset)} is not supported "
            f"(known: {', '.join(map(str, spec.layouts))})",
        )
    if len(parts) > len(codec.segments):
        raise GppError(
            spec.prefix, f"has {len(parts)} segments, at most {len(codec.segments)} are defined"
        )
    fields: dict[str, FieldValue] = {}
    for index, segment in enumerate(codec.segments):
        if index < len(parts):
            fields.update(segment.decode(parts[index], offset, strict))
            offset += len(parts[index]) + 1
        elif segment.segment.included is None:
            raise GppError(spec.prefix, f"the {segment.segment.kind} segment is missing")
        else:
            fields.update(segment.absent())
    return fields


def _version_of(spec: SectionSpec, core: str, offset: int) -> int:
    """The version field, which is the first 6 bits of every section we implement."""
    if not core:
        raise GppError(f"{spec.prefix} core segment", f"is empty (character {offset})")
    try:
        return to_int(core[0])
    except BadCharacter:
        raise GppError(
            f"{spec.prefix} core segment",
            f"character {core[0]!r} at position {offset} is not base64url",
        ) from None


def encode_section(spec: SectionSpec, values: Mapping[str, object]) -> str:
    """The text of a section from its field values; a missing field (or None) takes the
    library's default, an unknown or invalid one is a GppError naming `prefix.Field`."""
    codec = _CODECS[(spec.prefix, _checked_version(spec, values))]
    for name in values:
        if name not in codec.names:
            raise GppError(
                f"{spec.prefix}.{name}", f"is not a field of {spec.prefix} v{codec.version}"
            )
    parts = []
    for segment in codec.segments:
        included = segment.segment.included
        if included is not None and not _included(spec, included, values):
            continue
        parts.append(segment.encode(values))
    return ".".join(parts)


def _checked_version(spec: SectionSpec, values: Mapping[str, object]) -> int:
    version = values.get(spec.version_field, spec.current_version)
    if type(version) is not int or version not in spec.layouts:
        raise GppError(
            f"{spec.prefix}.{spec.version_field}",
            f"{version!r} is not a supported version (known: {', '.join(map(str, spec.layouts))})",
        )
    return version


def _included(spec: SectionSpec, name: str, values: Mapping[str, object]) -> bool:
    included = values.get(name, True)
    if type(included) is not bool:
        raise GppError(f"{spec.prefix}.{name}", "expected true or false")
    return included
