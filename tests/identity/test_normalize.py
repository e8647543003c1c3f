"""Normalisation: one spelling per identity; garbage refused with the field named."""

from __future__ import annotations

import pytest

from privacyops.errors import InvalidInput
from privacyops.identity.normalize import normalize


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        ("email", "ann@example.com", "ann@example.com"),
        ("email", "  Ann.Lee+shop@Example.COM\n", "ann.lee+shop@example.com"),
        ("email", "o'brien@mail.co.uk", "o'brien@mail.co.uk"),
        ("phone", "(212) 555-0123", "+12125550123"),
        ("phone", "212-555-0123", "+12125550123"),
        ("phone", "212.555.0123", "+12125550123"),
        ("phone", "2125550123", "+12125550123"),
        ("phone", "1 212 555 0123", "+12125550123"),
        ("phone", "+1 (212) 555-0123", "+12125550123"),
        ("phone", " +12125550123 ", "+12125550123"),
        ("loyalty_id", " mb-00123 ", "MB-00123"),
        (
            "device_id",
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        ),
    ],
)
def test_valid_values(kind: str, given: str, expected: str) -> None:
    assert normalize(kind, given) == expected
    assert normalize(kind, expected) == expected  # idempotent


MESSAGES = {
    "email": {"not an email address (expected name@example.com)"},
    "phone": {
        "not a US phone number (expected 10 digits, e.g. (212) 555-0123)",
        "only US phone numbers (+1) are accepted",
    },
    "loyalty_id": {"not a loyalty id (1-64 letters, digits, - or _)"},
    "device_id": {"not a device id (1-128 letters, digits, or : . - _)"},
}


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        ("email", ""),
        ("email", "ann"),
        ("email", "ann@"),
        ("email", "@example.com"),
        ("email", "ann@example"),
        ("email", "ann@@example.com"),
        ("email", "ann lee@example.com"),
        ("email", "ann@-example.com"),
        ("email", "a" * 65 + "@example.com"),
        ("phone", ""),
        ("phone", "555-0123"),
        ("phone", "call me maybe"),
        ("phone", "(012) 555-0123"),
        ("phone", "212-055-0123"),
        ("phone", "+44 20 7946 0958"),
        ("phone", "2 1 2 5 5 5 0 1 2 3 4"),
        ("phone", "212-555-0123 ext 4"),
        ("phone", "２１２５５５０１２３"),
        ("loyalty_id", ""),
        ("loyalty_id", "has space"),
        ("loyalty_id", "x" * 65),
        ("device_id", "   "),
        ("device_id", "a/b"),
    ],
)
def test_invalid_values_name_the_field_not_the_value(kind: str, given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize(kind, given, field=f"identities.{kind}")
    assert caught.value.message.startswith(f"identities.{kind}: ")
    assert [p.field for p in caught.value.problems] == [f"identities.{kind}"]
    # One fixed message per kind: the value itself is never repeated back.
    assert caught.value.problems[0].message in MESSAGES[kind]


def test_unknown_kind() -> None:
    with pytest.raises(InvalidInput, match="use one of email, phone, loyalty_id, device_id"):
        normalize("passport", "X")
