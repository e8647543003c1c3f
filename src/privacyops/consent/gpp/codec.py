"""GPP strings: `Header~Section~Section...`, read into a GppString and written back.

Source: `Core/Consent String Specification.md` (reference notes §4.1). The header is Type
Int(6) = 3, Version Int(6) = 1, then the section ids as Range(Fibonacci): Int(12) count of
items; per item a Boolean "is a group", the Fibonacci-coded offset from the previous id, and for
a group a second Fibonacci number, the offset from its first id to its last.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from privacyops.consent.gpp.bits import (
    TEXT_CHARS,
    BadCharacter,
    BitReader,
    BitWriter,
    CodeTooLong,
    OutOfBits,
    from_bits,
    to_bits,
)
from privacyops.consent.gpp.errors import GppError
from privacyops.consent.gpp.model import GppString, Section
from privacyops.consent.gpp.registry import HEADER_ID, HEADER_VERSION, SPECS, id_for, prefix_for
from privacyops.consent.gpp.sections import decode_section, encode_section

_OPAQUE_CHARS = TEXT_CHARS  # then checked for "~", which would split the string
# A header read on its own lists at most this many ids (a forged group must not fill memory).
_MAX_HEADER_IDS = 4096


def decode(gpp: str, *, strict: bool = False) -> GppString:
    """Read a GPP string. Any problem is a GppError saying what and where, never another error.

    Sections we implement are decoded into fields; the others are kept as opaque text so that
    `encode(decode(s))` writes the same sections. With `strict`, field values must also be ones
    `encode` accepts (e.g. MspaCoveredTransaction 1 or 2, GpcSegmentType 1).
    """
    if not isinstance(gpp, str):
        raise GppError("string", f"expected a str, got {type(gpp).__name__}")
    if not gpp:
        raise GppError("string", "is empty")
    parts = gpp.split("~")
    ids = decode_header(parts[0], len(parts) - 1)
    result = GppString()
    offset = len(parts[0]) + 1
    for section_id, text in zip(ids, parts[1:], strict=True):
        result.sections[prefix_for(section_id)] = _decode_section(section_id, text, offset, strict)
        offset += len(text) + 1
    return result


def _decode_section(section_id: int, text: str, offset: int, strict: bool) -> Section:
    prefix = prefix_for(section_id)
    if not text.strip():
        raise GppError(prefix, f"section {section_id} is blank (character {offset})")
    spec = SPECS.get(prefix)
    if spec is None:
        _check_opaque(prefix, text, offset)
        return Section(section_id, prefix, text=text, opaque=True)
    fields = decode_section(spec, text, offset=offset, strict=strict)
    return Section(section_id, prefix, fields=fields, text=text)


def _check_opaque(prefix: str, text: str, offset: int) -> None:
    match = _OPAQUE_CHARS.match(text)
    end = match.end() if match else 0
    if end < len(text) or "~" in text:
        bad = end if end < len(text) else text.index("~")
        raise GppError(
            prefix, f"character {text[bad]!r} at position {offset + bad} is not allowed in GPP"
        )


def decode_header(text: str, sections: int | None = None) -> list[int]:
    """The section ids a header lists. `sections`, when given, is how many sections follow it
    in the string: the header must list exactly that many."""
    if len(text) <= _CACHED_HEADER_LENGTH:
        return list(_decode_header_cached(text, sections))
    return _decode_header(text, sections)


# Real traffic carries a handful of distinct headers; short ones are worth remembering.
_CACHED_HEADER_LENGTH = 16


@functools.lru_cache(maxsize=256)
def _decode_header_cached(text: str, sections: int | None) -> tuple[int, ...]:
    return tuple(_decode_header(text, sections))


def _decode_header(text: str, sections: int | None) -> list[int]:
    bound = _MAX_HEADER_IDS if sections is None else sections
    too_many = (
        f"lists more than {bound} section ids"
        if sections is None
        else f"lists more sections than the {sections} that follow it"
    )
    try:
        reader = BitReader(to_bits(text))
    except BadCharacter as bad:
        raise GppError(
            "header", f"character {bad.char!r} at position {bad.position} is not base64url"
        ) from None
    try:
        _check_type_and_version(reader, text)
        ids = _read_section_ids(reader, bound, too_many)
    except OutOfBits as short:
        raise GppError(
            "header", f"ends after {short.length} bits, inside the section ids"
        ) from None
    except CodeTooLong as long:
        raise GppError(
            "header", f"the section id at bit {long.position} is too large to be real"
        ) from None
    if sections is not None and len(ids) != sections:
        raise GppError("header", f"lists {len(ids)} sections but the string has {sections}")
    return ids


def _check_type_and_version(reader: BitReader, text: str) -> None:
    kind = reader.read_int(6)
    if kind != HEADER_ID:
        hint = " (a TCF v2 string starts with C; a GPP string with D)" if text[:1] == "C" else ""
        raise GppError("header", f"type is {kind}, a GPP header has type {HEADER_ID}{hint}")
    version = reader.read_int(6)
    if version != HEADER_VERSION:
        raise GppError("header", f"version {version} is not supported (known: {HEADER_VERSION})")


def _read_section_ids(reader: BitReader, bound: int, too_many: str) -> list[int]:
    """Range(Fibonacci). `bound` limits the expansion: a forged group such as 1..10**9 must
    fail fast rather than fill memory."""
    ids: list[int] = []
    last = 0
    for _ in range(reader.read_int(12)):
        is_group = reader.read_bool()
        first = last + reader.read_fibonacci()
        last = first + reader.read_fibonacci() if is_group else first
        if len(ids) + last - first + 1 > bound:
            raise GppError("header", too_many)
        ids.extend(range(first, last + 1))
    return ids


def encode(gpp: GppString | Mapping[str, object]) -> str:
    """Write a GPP string from a GppString, or from a mapping of prefix -> fields (a mapping of
    field name -> value) or -> section text (opaque sections such as tcfeuv2, uspv1)."""
    sections = gpp.sections.values() if isinstance(gpp, GppString) else _sections_of(gpp)
    ordered = sorted(sections, key=lambda section: section.id)
    if not ordered:
        raise GppError("string", "has no sections")
    texts = [encode_header([section.id for section in ordered])]
    texts.extend(_encode_one(section) for section in ordered)
    return "~".join(texts)


def _sections_of(sections: Mapping[str, object]) -> list[Section]:
    if not isinstance(sections, Mapping):
        raise GppError(
            "string", f"expected a GppString or a mapping, got {type(sections).__name__}"
        )
    result = []
    for prefix, value in sections.items():
        section_id = id_for(prefix) if isinstance(prefix, str) else None
        if section_id is None:
            raise GppError(str(prefix), "is not a known section prefix")
        if isinstance(value, Section):
            result.append(value)
        elif isinstance(value, str):
            result.append(Section(section_id, prefix, text=value, opaque=True))
        elif isinstance(value, Mapping):
            result.append(Section(section_id, prefix, fields=dict(value)))
        else:
            raise GppError(prefix, "expected a mapping of fields or the section's text")
    return result


def _encode_one(section: Section) -> str:
    if id_for(section.prefix) != section.id:
        raise GppError(section.prefix, f"is not the prefix of section id {section.id}")
    spec = SPECS.get(section.prefix)
    if spec is None:
        if not section.opaque:
            raise GppError(section.prefix, "is kept as text only: give its text, not fields")
        if not section.text:
            raise GppError(section.prefix, "section text is empty")
        _check_opaque(section.prefix, section.text, 0)
        return section.text
    if section.opaque:
        # Text given for a section we implement: read it, so that what we write is valid.
        return encode_section(spec, decode_section(spec, section.text, strict=True))
    return encode_section(spec, section.fields)


def encode_header(ids: list[int]) -> str:
    """The header listing these section ids (each once, any order)."""
    if any(type(section_id) is not int or section_id < 1 for section_id in ids):
        raise GppError("header", "section ids are integers from 1")
    if len(set(ids)) != len(ids):
        raise GppError("header", "a section id appears twice")
    return _encode_header(tuple(sorted(ids)))


@functools.lru_cache(maxsize=256)
def _encode_header(ids: tuple[int, ...]) -> str:
    writer = BitWriter()
    writer.write_int(HEADER_ID, 6)
    writer.write_int(HEADER_VERSION, 6)
    groups = _groups(ids)
    writer.write_int(len(groups), 12)
    last = 0
    for first, end in groups:
        writer.write_bool(first != end)
        writer.write_fibonacci(first - last)
        if first != end:
            writer.write_fibonacci(end - first)
        last = end
    return from_bits(writer.bits())


def _groups(ids: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sorted ids as runs of consecutive values, each run as (first, last)."""
    groups: list[tuple[int, int]] = []
    for section_id in ids:
        if groups and groups[-1][1] + 1 == section_id:
            groups[-1] = (groups[-1][0], section_id)
        else:
            groups.append((section_id, section_id))
    return groups
