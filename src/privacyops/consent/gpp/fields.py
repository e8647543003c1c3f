"""Field types of GPP sections: how each reads, writes, checks and defaults its value.

Field names are exactly those of @iabgpp/cmpapi (`UsNatField.ts` and the other `Us*Field.ts`)
so that `getField("usnat.SaleOptOut")` on a page and `section.fields["SaleOptOut"]` here agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from privacyops.consent.gpp.errors import GppError

FieldValue = int | bool | list[int]


def _describe(allowed: range) -> str:
    return f"{allowed.start}..{allowed.stop - 1}"


@dataclass(frozen=True, slots=True)
class IntField:
    """Int(width): an unsigned integer; `allowed` holds the values the spec gives a meaning."""

    name: str
    width: int
    allowed: range
    default: int

    @property
    def bits(self) -> int:
        return self.width

    def check(self, value: object, where: str) -> int:
        # bool is an int in Python; True for a 2-bit field is a caller's mistake, not 1.
        if type(value) is not int:
            raise GppError(where, f"expected an integer, got {type(value).__name__}")
        if value not in self.allowed:
            raise GppError(where, f"{value} is out of range {_describe(self.allowed)}")
        return value

    def default_value(self) -> int:
        return self.default


@dataclass(frozen=True, slots=True)
class IntListField:
    """N-Bitfield(width, count): a fixed-length list of small integers."""

    name: str
    width: int
    count: int
    allowed: range

    @property
    def bits(self) -> int:
        return self.width * self.count

    def check(self, value: object, where: str) -> list[int]:
        if not isinstance(value, list | tuple):
            raise GppError(where, f"expected a list of {self.count} integers")
        if len(value) != self.count:
            raise GppError(where, f"expected {self.count} values, got {len(value)}")
        for index, item in enumerate(value):
            if type(item) is not int or item not in self.allowed:
                raise GppError(
                    f"{where}[{index}]",
                    f"{item!r} is not an integer in range {_describe(self.allowed)}",
                )
        return list(value)

    def default_value(self) -> list[int]:
        return [0] * self.count


@dataclass(frozen=True, slots=True)
class BoolField:
    """Boolean: one bit, 1 = true (the reference library; the spec table's "0=true" is an
    erratum, reference notes §4.1)."""

    name: str
    default: bool

    @property
    def bits(self) -> int:
        return 1

    def check(self, value: object, where: str) -> bool:
        if type(value) is not bool:
            raise GppError(where, f"expected true or false, got {type(value).__name__}")
        return value

    def default_value(self) -> bool:
        return self.default


Field = IntField | IntListField | BoolField
