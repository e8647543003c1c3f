"""Blind indexes: keyed hashes that let us find a row by email or phone without storing either.

HMAC-SHA256 under the ring's index key, over `<domain>:<normalised value>`, hex. Without the
index key the hashes cannot be recomputed from a guessed email, unlike a plain SHA-256. The
domain prefix keeps an email and a loyalty id with the same text apart.
"""

from __future__ import annotations

import hashlib
import hmac

from privacyops.identity.normalize import normalize


def keyed_hash(index_key: bytes, domain: str, value: str) -> str:
    return hmac.new(index_key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


def blind_index(index_key: bytes, kind: str, value: str) -> str:
    """The index of an identity; the value is normalised first (errors name the kind)."""
    return keyed_hash(index_key, kind, normalize(kind, value))


def subject_hash(index_key: bytes, subject_id: str) -> str:
    """How the audit log names a data subject: a keyed hash of the subject id, never an identity.

    It stays the same after crypto-shredding (the subject id survives, its identities do not),
    so the log still ties an erasure to earlier events without revealing who it was.
    """
    return keyed_hash(index_key, "subject", subject_id)
