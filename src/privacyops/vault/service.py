"""The vault: envelope encryption for personal data, platform secrets and blind indexes.

Two layers. Each data subject has a random 256-bit data key; their data is encrypted under it.
The data key is stored wrapped (encrypted) under the active ring key in the key store, a
database apart from the main one. Platform secrets that belong to no subject are encrypted
directly under the ring. So:

- rotating the ring re-wraps a few hundred bytes per subject, never their data;
- erasing one subject's key (crypto-shredding) makes all their data unreadable, in the live
  database and in every backup of it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType

from privacyops.errors import PrivacyOpsError
from privacyops.settings import Settings
from privacyops.vault import crypto
from privacyops.vault.blind_index import blind_index, subject_hash
from privacyops.vault.keyring import KeyRing, KeyRingError, load_keyring
from privacyops.vault.keystore import KeyStore, SqlKeyStore, WrappedKey

DATA_KEY_BYTES = 32


class SubjectShredded(PrivacyOpsError):
    """The subject's data key is gone: their data was crypto-shredded and cannot be read."""

    status_code = 410
    title = "Gone"


def wrap_context(subject_id: str) -> bytes:
    # Binds a wrapped key to its subject: a wrapped key copied to another subject will not open.
    return f"subject_key:{subject_id}".encode()


def wrap_key(ring: KeyRing, subject_id: str, data_key: bytes) -> WrappedKey:
    sealed = crypto.seal(ring.active_key, data_key, wrap_context(subject_id))
    return WrappedKey(subject_id=subject_id, key_id=ring.active_id, wrapped=sealed)


def unwrap_key(ring: KeyRing, stored: WrappedKey) -> bytes:
    return crypto.unseal(ring.key(stored.key_id), stored.wrapped, wrap_context(stored.subject_id))


class KeyCache:
    """Unwrapped data keys for a short while, at most `size` of them (least recently used go).

    Another process that shreds a key cannot evict it here; `seconds` bounds how long such a
    key stays usable in this process.
    """

    def __init__(
        self, size: int = 1024, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size, self._seconds, self._clock = size, seconds, clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject_id: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(subject_id)
            if entry is None:
                return None
            stored_at, key = entry
            if self._clock() - stored_at > self._seconds:
                del self._entries[subject_id]
                return None
            self._entries.move_to_end(subject_id)
            return key

    def put(self, subject_id: str, key: bytes) -> None:
        with self._lock:
            self._entries[subject_id] = (self._clock(), key)
            self._entries.move_to_end(subject_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def evict(self, subject_id: str) -> None:
        with self._lock:
            self._entries.pop(subject_id, None)

    def __len__(self) -> int:
        return len(self._entries)


class Vault:
    """Encrypt, decrypt, index and shred. Build one per process with `from_settings`."""

    def __init__(self, ring: KeyRing, keystore: KeyStore, cache: KeyCache | None = None) -> None:
        self.ring = ring
        self.keystore = keystore
        self._cache = cache or KeyCache()

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        keystore_url = settings.effective_keystore_url
        if keystore_url == settings.effective_database_url:
            raise KeyRingError(
                "PRIVACYOPS_KEYSTORE_URL must name another database than PRIVACYOPS_DATABASE_URL: "
                "crypto-shredding needs the keys outside the main database and its backups"
            )
        ring = load_keyring(settings)
        return cls(ring, SqlKeyStore(keystore_url))

    def close(self) -> None:
        self.keystore.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- per-subject data --------------------------------------------------------------------

    def create_subject_key(self, subject_id: str) -> None:
        """Give a new subject its data key, committed in the key store right away.

        Keys are made only here, never on the fly when encrypting: a shredded subject must not
        quietly get a fresh key and readable new data.
        """
        data_key = secrets.token_bytes(DATA_KEY_BYTES)
        self.keystore.put(wrap_key(self.ring, subject_id, data_key))
        self._cache.put(subject_id, data_key)

    def encrypt_for_subject(self, subject_id: str, plaintext: str, context: str) -> str:
        key = self._data_key(subject_id)
        return crypto.encrypt_token(
            crypto.SUBJECT_KEY_REF, key, plaintext, _subject_context(subject_id, context)
        )

    def decrypt_for_subject(self, subject_id: str, token: str, context: str) -> str:
        key = self._data_key(subject_id)

        def key_for(ref: str) -> bytes:
            if ref != crypto.SUBJECT_KEY_REF:
                raise crypto.MalformedCiphertext("this value is not under a subject's data key")
            return key

        return crypto.decrypt_token(token, key_for, _subject_context(subject_id, context))

    def shred(self, subject_id: str) -> None:
        """Erase the subject's data key: their data, wherever copied, can no longer be read.

        Idempotent, and records nothing: the caller records `subject.shredded`.
        """
        self._cache.evict(subject_id)
        self.keystore.delete(subject_id)

    def has_subject_key(self, subject_id: str) -> bool:
        return self.keystore.get(subject_id) is not None

    def _data_key(self, subject_id: str) -> bytes:
        cached = self._cache.get(subject_id)
        if cached is not None:
            return cached
        stored = self.keystore.get(subject_id)
        if stored is None:
            raise SubjectShredded(
                f"subject {subject_id} has no data key: their data was erased (crypto-shredded)"
            )
        key = unwrap_key(self.ring, stored)
        self._cache.put(subject_id, key)
        return key

    # --- platform secrets --------------------------------------------------------------------

    def encrypt_secret(self, plaintext: str, context: str) -> str:
        return crypto.encrypt_token(self.ring.active_id, self.ring.active_key, plaintext, context)

    def decrypt_secret(self, token: str, context: str) -> str:
        return crypto.decrypt_token(token, self._ring_key, context)

    def _ring_key(self, ref: str) -> bytes:
        if ref == crypto.SUBJECT_KEY_REF:
            raise crypto.MalformedCiphertext("this value is under a subject's data key")
        return self.ring.key(ref)

    # --- lookups -----------------------------------------------------------------------------

    def blind_index(self, kind: str, value: str) -> str:
        """The keyed hash to look an identity up by; `value` is normalised first."""
        return blind_index(self.ring.index_key, kind, value)

    def subject_hash(self, subject_id: str) -> str:
        """What the audit log stores as `subject`."""
        return subject_hash(self.ring.index_key, subject_id)


def _subject_context(subject_id: str, context: str) -> str:
    return f"subject:{subject_id}|{context}"
