"""Verification codes and public references: random, and never stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6
# Crockford's base32: no I, L, O or U, so a reference read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_CHARS = 10  # 50 bits: references cannot be enumerated


def new_reference() -> str:
    """`R-7K3M9Q2XAB`: the public reference of a request."""
    return "R-" + "".join(secrets.choice(_ALPHABET) for _ in range(REFERENCE_CHARS))


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hmac(key: bytes, code_id: str, code: str) -> str:
    """The stored form of a code: keyed (a leaked table can't be checked against 10^6 guesses
    without the key) and bound to its row (a hash copied to another row does not match)."""
    message = f"dsr-verification-code|{code_id}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(key: bytes, code_id: str, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hmac(key, code_id, code), stored)


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()
