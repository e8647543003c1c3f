"""Bits, and the 6-bit base64url packing GPP writes them in.

Source: IAB GPP `Core/Consent String Specification.md` (see /work/shared/reference/
us-privacy-rules.md §4.1). Bits are kept as a `str` of "0" and "1": slicing and `int(s, 2)` run
in C, and the Fibonacci codes end at the first "11", which `str.find` locates.
"""

from __future__ import annotations

import re

# Values 0..63, in order. The spec's table shows RFC 4648 "+" and "/" for 62 and 63, its
# URL-safe note and the reference library use "-" and "_": we write "-" "_" and read all four.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_BITS: dict[int, str] = {ord(c): format(i, "06b") for i, c in enumerate(ALPHABET)}
_TO_BITS[ord("+")] = _TO_BITS[ord("-")]
_TO_BITS[ord("/")] = _TO_BITS[ord("_")]
_FROM_BITS: dict[str, str] = {format(i, "06b"): c for i, c in enumerate(ALPHABET)}
# 6 bits are two octal digits: `int(text.translate(_TO_OCTAL), 8)` unpacks a whole segment in C.
_TO_OCTAL: dict[int, str] = {key: format(int(bits, 2), "02o") for key, bits in _TO_BITS.items()}

# Characters a GPP string may hold: the alphabets above plus "." (segments) and "~" (sections).
TEXT_CHARS = re.compile(r"[A-Za-z0-9\-_+/.~]*")


class OutOfBits(Exception):
    """Internal: a read went past the end. Callers turn it into a GppError naming the field."""

    def __init__(self, position: int, length: int) -> None:
        super().__init__(position, length)
        self.position = position
        self.length = length


class CodeTooLong(Exception):
    """Internal: a Fibonacci code longer than any real value needs (a forged string)."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class BadCharacter(Exception):
    """Internal: a character outside the base64url alphabet, at `position` of the text."""

    def __init__(self, position: int, char: str) -> None:
        super().__init__(position, char)
        self.position = position
        self.char = char


def to_bits(text: str) -> str:
    """The bits that `text` packs, 6 per character."""
    bits = text.translate(_TO_BITS)
    # A character missing from the table stays one character long instead of six.
    if len(bits) != 6 * len(text):
        raise _first_bad_character(text)
    return bits


def to_int(text: str) -> int:
    """The bits that `text` packs, 6 per character, as one integer (first bit highest)."""
    if not text:
        return 0
    digits = text.translate(_TO_OCTAL)
    # Checked before int(): it would also accept "_" separators and non-ASCII digits.
    if len(digits) != 2 * len(text):
        raise _first_bad_character(text)
    return int(digits, 8)


def padded_length(bits: int) -> int:
    """How many bits `bits` take once padded as the reference encoder pads (see from_bits)."""
    bits += -bits % 8
    return bits + -bits % 6


def from_int(value: int, bits: int) -> str:
    """Pack the `bits` low bits of `value`, padded like from_bits."""
    total = padded_length(bits)
    value <<= total - bits
    return "".join([ALPHABET[(value >> shift) & 63] for shift in range(total - 6, -1, -6)])


def _first_bad_character(text: str) -> BadCharacter:
    for position, char in enumerate(text):
        if ord(char) not in _TO_BITS:
            return BadCharacter(position, char)
    raise AssertionError("to_bits found no bad character")  # pragma: no cover


def from_bits(bits: str) -> str:
    """Pack `bits` 6 per character, padded with zero bits the way the reference encoder pads.

    The spec pads to a multiple of 6; `CompressedBase64UrlEncoder` of @iabgpp/cmpapi pads to a
    multiple of 8 first, then of 6 (header `DBABMA` where the spec shows `DBABM`). Readers
    ignore trailing zero bits, so both read the same; we write the library's form so that our
    strings are byte-for-byte what other CMPs emit.
    """
    bits += "0" * (padded_length(len(bits)) - len(bits))
    return "".join([_FROM_BITS[bits[i : i + 6]] for i in range(0, len(bits), 6)])


class BitReader:
    """Reads fields one after another from a string of bits."""

    __slots__ = ("bits", "position")

    def __init__(self, bits: str) -> None:
        self.bits = bits
        self.position = 0

    def read_int(self, width: int) -> int:
        end = self.position + width
        if end > len(self.bits):
            raise OutOfBits(self.position, len(self.bits))
        value = int(self.bits[self.position : end], 2)
        self.position = end
        return value

    def read_bool(self) -> bool:
        return self.read_int(1) == 1

    def read_fibonacci(self, max_bits: int = 32) -> int:
        """A Fibonacci (Zeckendorf) code: bit i weighs F(i+2) = 1, 2, 3, 5, ...; ends in "11".

        Codes longer than `max_bits` are refused: 32 bits reach 3.5 million, far beyond any
        section id, and a forged run of a million bits must not become a million-bit number.
        """
        end = self.bits.find("11", self.position, self.position + max_bits)
        if end < 0:
            if self.bits.find("11", self.position) < 0:
                raise OutOfBits(self.position, len(self.bits))
            raise CodeTooLong(self.position)
        value = 0
        low, high = 1, 2
        for bit in self.bits[self.position : end + 1]:
            if bit == "1":
                value += low
            low, high = high, low + high
        self.position = end + 2
        return value


class BitWriter:
    """Collects fields as bits, in order."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write_int(self, value: int, width: int) -> None:
        # Callers have checked 0 <= value < 2**width (field validation names the field).
        self.parts.append(format(value, f"0{width}b"))

    def write_bool(self, value: bool) -> None:
        # 1 = true, as the reference library writes it; the spec's table saying "0=true" is an
        # erratum (reference notes §4.1).
        self.parts.append("1" if value else "0")

    def write_fibonacci(self, value: int) -> None:
        self.parts.append(fibonacci_code(value))

    def bits(self) -> str:
        return "".join(self.parts)


def fibonacci_code(value: int) -> str:
    """The Zeckendorf code of `value` >= 1, lowest weight first, with the closing "1"."""
    if value < 1:
        raise ValueError(f"Fibonacci codes start at 1, not {value}")
    weights = [1, 2]
    while weights[-1] <= value:
        weights.append(weights[-1] + weights[-2])
    code = ["0"] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        if weights[i] <= value:
            code[i] = "1"
            value -= weights[i]
    return "".join(code).rstrip("0") + "1"
