"""One spelling per identity, so that the blind index of "Ann@X.com " and "ann@x.com" agree.

Errors name the field and what is expected; they never repeat the value (it is personal data
and error messages can end up in logs).
"""

from __future__ import annotations

import re
from enum import StrEnum

from privacyops.errors import FieldProblem, InvalidInput


class IdentityKind(StrEnum):
    email = "email"
    phone = "phone"
    loyalty_id = "loyalty_id"
    device_id = "device_id"


_EMAIL = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
# Separators people type in US numbers: spaces, dots, dashes, parentheses.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# NANP: area code and exchange start with 2-9.
_NANP = re.compile(r"^[2-9]\d{2}[2-9]\d{6}$")
_LOYALTY = re.compile(r"^[A-Z0-9_-]{1,64}$")
_DEVICE = re.compile(r"^[a-z0-9:._-]{1,128}$")


def parse_kind(kind: str, field: str = "kind") -> IdentityKind:
    try:
        return IdentityKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in IdentityKind)
        raise _invalid(field, f"unknown identity kind; use one of {choices}") from None


def normalize(kind: str, value: str, field: str | None = None) -> str:
    """The canonical form of `value` as an identity of `kind`; `field` names it in errors."""
    identity_kind = parse_kind(kind)
    name = field or identity_kind.value
    return _NORMALIZERS[identity_kind](value, name)


def normalize_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or len(email.split("@", 1)[0]) > 64:
        raise _invalid(field, "not an email address (expected name@example.com)")
    return email


def normalize_phone(value: str, field: str = "phone") -> str:
    """US numbers in E.164: +1 and ten digits. Accepts (555) 123-4567, 555.123.4567, +1 555..."""
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("1"):
            raise _invalid(field, "only US phone numbers (+1) are accepted")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not digits.isascii() or not _NANP.match(digits):
        raise _invalid(field, "not a US phone number (expected 10 digits, e.g. (212) 555-0123)")
    return f"+1{digits}"


def normalize_loyalty_id(value: str, field: str = "loyalty_id") -> str:
    loyalty = value.strip().upper()
    if not _LOYALTY.match(loyalty):
        raise _invalid(field, "not a loyalty id (1-64 letters, digits, - or _)")
    return loyalty


def normalize_device_id(value: str, field: str = "device_id") -> str:
    device = value.strip().lower()
    if not _DEVICE.match(device):
        raise _invalid(field, "not a device id (1-128 letters, digits, or : . - _)")
    return device


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [FieldProblem(field=field, message=message)])


_NORMALIZERS = {
    IdentityKind.email: normalize_email,
    IdentityKind.phone: normalize_phone,
    IdentityKind.loyalty_id: normalize_loyalty_id,
    IdentityKind.device_id: normalize_device_id,
}
