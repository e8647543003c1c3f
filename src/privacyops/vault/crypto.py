"""AES-256-GCM with a self-describing token: `v1.<key ref>.<base64url(nonce + ciphertext)>`.

The key ref is a ring key id, or `subject` for data under a subject's own data key. Every
encryption takes a fresh random 96-bit nonce. The associated data binds a ciphertext to its
context (table, column, row or subject) and to the token's version and key ref: a ciphertext
copied to another row, or relabelled with another key id, fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacyops.errors import PrivacyOpsError

VERSION = "v1"
NONCE_BYTES = 12
SUBJECT_KEY_REF = "subject"


class DecryptionFailed(PrivacyOpsError):
    """The ciphertext was altered, belongs to another context, or is under another key."""


class MalformedCiphertext(PrivacyOpsError):
    """A stored value is not a vault token at all."""


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def unseal(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise DecryptionFailed("cannot decrypt: the ciphertext is too short")
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, associated_data)
    except InvalidTag:
        raise DecryptionFailed(
            "cannot decrypt: the ciphertext was altered, or belongs to another context or key"
        ) from None


def _associated(key_ref: str, context: str) -> bytes:
    return f"{VERSION}.{key_ref}|{context}".encode()


def encrypt_token(key_ref: str, key: bytes, plaintext: str, context: str) -> str:
    sealed = seal(key, plaintext.encode("utf-8"), _associated(key_ref, context))
    body = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")
    return f"{VERSION}.{key_ref}.{body}"


def token_key_ref(token: str) -> str:
    return parse_token(token)[0]


def parse_token(token: str) -> tuple[str, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise MalformedCiphertext("not a vault ciphertext (expected v1.<key id>.<data>)")
    version, key_ref, body = parts
    if version != VERSION:
        raise MalformedCiphertext(f"unsupported vault ciphertext version {version!r}")
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise MalformedCiphertext("not a vault ciphertext (bad base64)") from None
    return key_ref, sealed


def decrypt_token(token: str, key_for: Callable[[str], bytes], context: str) -> str:
    """Decrypt with the key `key_for(key_ref)` returns (it raises for an unknown ref)."""
    key_ref, sealed = parse_token(token)
    plaintext = unseal(key_for(key_ref), sealed, _associated(key_ref, context))
    return plaintext.decode("utf-8")
