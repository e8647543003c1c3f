"""What a decoded GPP string is: a header (implied) and its sections, by prefix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privacyops.consent.gpp.fields import FieldValue
from privacyops.consent.gpp.registry import HEADER_ID, HEADER_VERSION


@dataclass(slots=True)
class Section:
    """One section. Sections we implement have `fields` (library field names -> values) and
    are re-encoded from them (`text` is what was read, kept for reference only); the others
    (tcfeuv2, uspv1, sections of states the policy does not name, ids registered after 27) are
    `opaque`: carried as `text`, unchanged."""

    id: int
    prefix: str
    fields: dict[str, FieldValue] = field(default_factory=dict)
    text: str = ""
    opaque: bool = False

    def __getitem__(self, name: str) -> FieldValue:
        return self.fields[name]


@dataclass(slots=True)
class GppString:
    """A GPP string as sections; the header is derived from them when encoding."""

    sections: dict[str, Section] = field(default_factory=dict)

    @property
    def section_ids(self) -> list[int]:
        return sorted(section.id for section in self.sections.values())

    @property
    def header(self) -> dict[str, Any]:
        """The header fields as @iabgpp/cmpapi's `getHeader()` names them."""
        return {"Id": HEADER_ID, "Version": HEADER_VERSION, "SectionIds": self.section_ids}

    def __getitem__(self, prefix: str) -> Section:
        return self.sections[prefix]

    def __contains__(self, prefix: object) -> bool:
        return prefix in self.sections

    def to_dict(self) -> dict[str, Any]:
        """Fields by prefix, and the text of opaque sections: JSON-ready."""
        return {
            section.prefix: section.text if section.opaque else dict(section.fields)
            for section in sorted(self.sections.values(), key=lambda s: s.id)
        }
