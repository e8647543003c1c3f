"""The GPP sections we read and write, field by field, and the ids of all the others.

Sources (reference notes /work/shared/reference/us-privacy-rules.md):
- section ids and prefixes: §4.2, from `Sections/Section Information.md` (spec commit b27beb4);
- usnat: §4.3, the MSPA US National technical specification and `UsNatCoreSegment.ts`;
- state sections: §4.4, field orders and sizes from @iabgpp/cmpapi v3.2.0 `Us*Field.ts` and
  `Us*CoreSegment.ts` (checked field by field against the installed package by
  tests/consent/test_gpp_node.py).

Values of the 2-bit fields: notices 0 N/A, 1 yes (given), 2 no; opt-outs 0 N/A, 1 opted out,
2 did not opt out; consents 0 N/A, 1 no consent, 2 consent; MspaCoveredTransaction 1 yes, 2 no
(0 is not allowed); the MSPA modes 0 N/A, 1 yes, 2 no.

Nevada has no GPP section (none is registered up to id 27): a Nevada resident's choices travel
in usnat only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from privacyops.consent.gpp.fields import BoolField, Field, IntField, IntListField

HEADER_ID = 3
HEADER_VERSION = 1

# Every registered section id (spec `Section Information.md`), whether we decode it or not.
# 3 is the header itself and 4 is reserved for signal integrity: neither has a prefix.
PREFIXES: Mapping[int, str] = MappingProxyType(
    {
        1: "tcfeuv1",
        2: "tcfeuv2",
        5: "tcfcav1",
        6: "uspv1",
        7: "usnat",
        8: "usca",
        9: "usva",
        10: "usco",
        11: "usut",
        12: "usct",
        13: "usfl",
        14: "usmt",
        15: "usor",
        16: "ustx",
        17: "usde",
        18: "usia",
        19: "usne",
        20: "usnh",
        21: "usnj",
        22: "ustn",
        23: "usmn",
        24: "usmd",
        25: "usin",
        26: "usky",
        27: "usri",
    }
)
IDS: Mapping[str, int] = MappingProxyType({prefix: id_ for id_, prefix in PREFIXES.items()})
UNREGISTERED_PREFIX = "section"  # "section30": a section id nobody has registered yet


def prefix_for(section_id: int) -> str:
    return PREFIXES.get(section_id, f"{UNREGISTERED_PREFIX}{section_id}")


def id_for(prefix: str) -> int | None:
    if prefix in IDS:
        return IDS[prefix]
    digits = prefix.removeprefix(UNREGISTERED_PREFIX)
    if digits != prefix and digits.isascii() and digits.isdigit() and not digits.startswith("0"):
        return int(digits)
    return None


@dataclass(frozen=True, slots=True)
class Segment:
    """One `.`-separated part of a section. An optional segment has an `included` field: a
    boolean that is not written but says whether the segment is there (library naming)."""

    kind: str
    fields: tuple[Field, ...]
    included: str | None = None


@dataclass(frozen=True, slots=True)
class SectionSpec:
    id: int
    prefix: str
    name: str
    state: str | None
    version_field: str
    layouts: Mapping[int, tuple[Segment, ...]]  # by the value of version_field
    current_version: int

    def field_names(self, version: int) -> list[str]:
        names: list[str] = []
        for segment in self.layouts[version]:
            names.extend(field.name for field in segment.fields)
            if segment.included:
                names.append(segment.included)
        return names


def _choice(name: str) -> IntField:
    """A 2-bit field with the values 0 N/A, 1, 2."""
    return IntField(name, 2, range(3), 0)


def _list(name: str, count: int) -> IntListField:
    return IntListField(name, 2, count, range(3))


def _version(version: int, name: str = "Version") -> IntField:
    return IntField(name, 6, range(version, version + 1), version)


_MSPA = (
    IntField("MspaCoveredTransaction", 2, range(1, 3), 1),
    _choice("MspaOptOutOptionMode"),
    _choice("MspaServiceProviderMode"),
)
# The GPC sub-section: SubsectionType Int(2) = 1, then Gpc Boolean. The library calls the
# type field GpcSegmentType, and GpcSegmentIncluded says whether the sub-section is present.
_GPC = Segment(
    "gpc",
    (IntField("GpcSegmentType", 2, range(1, 2), 1), BoolField("Gpc", default=False)),
    included="GpcSegmentIncluded",
)


def _usnat_core(version: int, sensitive: int, child: int) -> Segment:
    return Segment(
        "core",
        (
            _version(version),
            *(
                _choice(name)
                for name in (
                    "SharingNotice",
                    "SaleOptOutNotice",
                    "SharingOptOutNotice",
                    "TargetedAdvertisingOptOutNotice",
                    "SensitiveDataProcessingOptOutNotice",
                    "SensitiveDataLimitUseNotice",
                    "SaleOptOut",
                    "SharingOptOut",
                    "TargetedAdvertisingOptOut",
                )
            ),
            _list("SensitiveDataProcessing", sensitive),
            _list("KnownChildSensitiveDataConsents", child),
            _choice("PersonalDataConsents"),
            *_MSPA,
        ),
    )


USNAT = SectionSpec(
    id=7,
    prefix="usnat",
    name="US National",
    state=None,
    version_field="Version",
    # v2 (Oct 2024) widened SensitiveDataProcessing from 12 to 16 categories and
    # KnownChildSensitiveDataConsents from 2 to 3 (ages 16-17).
    layouts=MappingProxyType({1: (_usnat_core(1, 12, 2), _GPC), 2: (_usnat_core(2, 16, 3), _GPC)}),
    current_version=2,
)


def _state(
    section_id: int,
    name: str,
    state: str,
    core: tuple[Field, ...],
    gpc: bool,
) -> SectionSpec:
    segments = (Segment("core", (_version(1), *core)),) + ((_GPC,) if gpc else ())
    return SectionSpec(
        id=section_id,
        prefix=PREFIXES[section_id],
        name=name,
        state=state,
        version_field="Version",
        layouts=MappingProxyType({1: segments}),
        current_version=1,
    )


def _choices(*names: str) -> tuple[IntField, ...]:
    return tuple(_choice(name) for name in names)


_VA_LIKE = ("SharingNotice", "SaleOptOutNotice", "TargetedAdvertisingOptOutNotice")
_PROCESSING = ("ProcessingNotice", "SaleOptOutNotice", "TargetedAdvertisingOptOutNotice")
_OPT_OUTS = ("SaleOptOut", "TargetedAdvertisingOptOut")
_ADPC = _choice("AdditionalDataProcessingConsent")
_CHILD = _choice("KnownChildSensitiveDataConsents")  # a single Int(2) in these states

USCA = _state(
    8,
    "California",
    "CA",
    (
        *_choices(
            "SaleOptOutNotice",
            "SharingOptOutNotice",
            "SensitiveDataLimitUseNotice",
            "SaleOptOut",
            "SharingOptOut",
        ),
        _list("SensitiveDataProcessing", 9),
        _list("KnownChildSensitiveDataConsents", 2),
        _choice("PersonalDataConsents"),
        *_MSPA,
    ),
    gpc=True,
)
USVA = _state(
    9,
    "Virginia",
    "VA",
    (*_choices(*_VA_LIKE, *_OPT_OUTS), _list("SensitiveDataProcessing", 8), _CHILD, *_MSPA),
    gpc=False,
)
USCO = _state(
    10,
    "Colorado",
    "CO",
    (*_choices(*_VA_LIKE, *_OPT_OUTS), _list("SensitiveDataProcessing", 7), _CHILD, *_MSPA),
    gpc=True,
)
USUT = _state(
    11,
    "Utah",
    "UT",
    (
        *_choices(*_VA_LIKE, "SensitiveDataProcessingOptOutNotice", *_OPT_OUTS),
        _list("SensitiveDataProcessing", 8),
        _CHILD,
        *_MSPA,
    ),
    gpc=False,
)
USCT = _state(
    12,
    "Connecticut",
    "CT",
    (
        *_choices(*_VA_LIKE, *_OPT_OUTS),
        _list("SensitiveDataProcessing", 8),
        _list("KnownChildSensitiveDataConsents", 3),
        *_MSPA,
    ),
    gpc=True,
)


def _with_adpc(
    leading: tuple[str, ...], sensitive: int, child: IntField | IntListField
) -> tuple[Field, ...]:
    return (
        *_choices(*leading, *_OPT_OUTS),
        _list("SensitiveDataProcessing", sensitive),
        child,
        _ADPC,
        *_MSPA,
    )


USFL = _state(
    13,
    "Florida",
    "FL",
    _with_adpc(_PROCESSING, 8, _list("KnownChildSensitiveDataConsents", 3)),
    gpc=False,
)
# Montana is laid out like Florida but opens with SharingNotice, not ProcessingNotice.
USMT = _state(
    14,
    "Montana",
    "MT",
    _with_adpc(_VA_LIKE, 8, _list("KnownChildSensitiveDataConsents", 3)),
    gpc=True,
)
USOR = _state(
    15,
    "Oregon",
    "OR",
    _with_adpc(_PROCESSING, 11, _list("KnownChildSensitiveDataConsents", 3)),
    gpc=True,
)
USTX = _state(16, "Texas", "TX", _with_adpc(_PROCESSING, 8, _CHILD), gpc=True)
USDE = _state(
    17,
    "Delaware",
    "DE",
    _with_adpc(_PROCESSING, 9, _list("KnownChildSensitiveDataConsents", 5)),
    gpc=True,
)
USIA = _state(
    18,
    "Iowa",
    "IA",
    (
        *_choices(*_PROCESSING, "SensitiveDataOptOutNotice", *_OPT_OUTS),
        _list("SensitiveDataProcessing", 8),
        _CHILD,
        *_MSPA,
    ),
    gpc=True,
)
USTN = _state(22, "Tennessee", "TN", _with_adpc(_PROCESSING, 8, _CHILD), gpc=True)

# Indiana uses the newer layout (ids 24-27): the MSPA fields come first, after MspaVersion,
# and the sensitive-data consents sit in an optional second segment. The IN spec document
# also describes a section header (SectionID, Version, SubSections) that neither the reference
# library nor its test vectors write; we follow the library (reference notes §4.4, §8 item 9).
USIN = SectionSpec(
    id=25,
    prefix="usin",
    name="Indiana",
    state="IN",
    version_field="MspaVersion",
    layouts=MappingProxyType(
        {
            1: (
                Segment(
                    "core",
                    (
                        _version(1, "MspaVersion"),
                        IntField("MspaCoveredTransaction", 2, range(1, 3), 1),
                        _choice("MspaMode"),
                        *_choices(*_PROCESSING, *_OPT_OUTS),
                        _CHILD,
                        _ADPC,
                    ),
                ),
                Segment(
                    "sensitive data consent",
                    (_list("SensitiveDataProcessing", 8),),
                    included="SensitiveDataConsentSegmentIncluded",
                ),
            )
        }
    ),
    current_version=1,
)

SPECS: Mapping[str, SectionSpec] = MappingProxyType(
    {
        spec.prefix: spec
        for spec in (
            USNAT,
            USCA,
            USVA,
            USCO,
            USUT,
            USCT,
            USFL,
            USMT,
            USOR,
            USTX,
            USDE,
            USIA,
            USTN,
            USIN,
        )
    }
)
# The state sections by two-letter code; a state missing here (NV, or a state the policy does
# not name) is covered by usnat alone.
STATE_SECTIONS: Mapping[str, SectionSpec] = MappingProxyType(
    {spec.state: spec for spec in SPECS.values() if spec.state is not None}
)
