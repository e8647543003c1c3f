"""The key ring: the vault's master keys, each with an id, one of them active, and the index key.

It comes from the `vault_keyring` setting (PRIVACYOPS_VAULT_KEYRING) or, when that is empty,
from `data_dir/vault-keys.json` (mode 0600). Old keys stay in the ring after a new one becomes
active, so that what they protect stays readable until `privacyops keys rotate` re-wraps it.

Error messages name the problem (which field, what is wrong) and never echo key material.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from privacyops.errors import PrivacyOpsError
from privacyops.settings import Settings

KEYRING_FILE = "vault-keys.json"
KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Tokens under a subject's data key name this instead of a ring key id (see crypto.py).
RESERVED_KEY_IDS = frozenset({"subject"})


class KeyRingError(PrivacyOpsError):
    """The key ring is missing or malformed, or a key it should hold is not there."""


class UnknownKey(KeyRingError):
    """Data is under a key id the ring does not hold (a retired or a foreign key)."""


def _decode_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes")
    return raw


class KeyRingConfig(BaseModel):
    """The JSON shape of a key ring, validated; values are base64 and never shown in errors."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    active: str
    keys: dict[str, str]
    index_key: str

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, keys: dict[str, str]) -> dict[str, str]:
        if not keys:
            raise ValueError("at least one key is needed")
        for key_id, value in keys.items():
            if not KEY_ID_PATTERN.match(key_id) or key_id in RESERVED_KEY_IDS:
                raise ValueError(f"key id {key_id!r} must be 1-32 letters, digits, - or _")
            try:
                _decode_key(value)
            except ValueError as exc:
                raise ValueError(f"key {key_id!r}: {exc}") from None
        return keys

    @field_validator("index_key")
    @classmethod
    def _check_index_key(cls, value: str) -> str:
        _decode_key(value)
        return value

    @model_validator(mode="after")
    def _active_is_known(self) -> KeyRingConfig:
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not among the keys")
        return self


@dataclass(frozen=True)
class KeyRing:
    """The decoded ring. `repr` shows key ids only."""

    active_id: str
    keys: dict[str, bytes]
    index_key: bytes
    source: str

    def __repr__(self) -> str:
        return f"KeyRing(active_id={self.active_id!r}, ids={sorted(self.keys)!r})"

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKey(
                f"data is under vault key {key_id!r}, which is not in the key ring ({self.source})"
            ) from None

    @classmethod
    def from_config(cls, config: KeyRingConfig, source: str) -> KeyRing:
        return cls(
            active_id=config.active,
            keys={key_id: _decode_key(value) for key_id, value in config.keys.items()},
            index_key=_decode_key(config.index_key),
            source=source,
        )


def keyring_path(settings: Settings) -> Path:
    return settings.data_dir / KEYRING_FILE


def parse_config(text: str, source: str) -> KeyRingConfig:
    try:
        return KeyRingConfig.model_validate_json(text)
    except ValidationError as exc:
        raise KeyRingError(f"invalid vault key ring ({source}): {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "JSON"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def load_config(settings: Settings) -> tuple[KeyRingConfig, str]:
    """The configured ring (setting first, then the local file) and where it came from."""
    if settings.vault_keyring is not None and settings.vault_keyring.get_secret_value().strip():
        source = "PRIVACYOPS_VAULT_KEYRING"
        return parse_config(settings.vault_keyring.get_secret_value(), source), source
    path = keyring_path(settings)
    if not path.exists():
        raise KeyRingError(
            f"no vault key ring: set PRIVACYOPS_VAULT_KEYRING or run `privacyops setup` "
            f"to create {path}"
        )
    _refuse_loose_permissions(path)
    return parse_config(path.read_text(encoding="utf-8"), str(path)), str(path)


def load_keyring(settings: Settings) -> KeyRing:
    config, source = load_config(settings)
    return KeyRing.from_config(config, source)


def uses_local_file(settings: Settings) -> bool:
    return settings.vault_keyring is None or not settings.vault_keyring.get_secret_value().strip()


def _refuse_loose_permissions(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyRingError(
            f"{path} is readable by other users (mode {mode:04o}); run `chmod 600 {path}`"
        )


def new_key_id(existing: set[str]) -> str:
    while True:
        key_id = secrets.token_hex(4)
        if key_id not in existing:
            return key_id


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def fresh_config() -> KeyRingConfig:
    key_id = new_key_id(set())
    return KeyRingConfig(active=key_id, keys={key_id: new_key()}, index_key=new_key())


def write_config(path: Path, config: KeyRingConfig) -> None:
    """Replace the file atomically; the new file is owner-only from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(config.model_dump(), indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _require_local_file(settings: Settings, action: str) -> Path:
    if not uses_local_file(settings):
        raise KeyRingError(
            f"the key ring comes from PRIVACYOPS_VAULT_KEYRING; {action} there "
            f"(this command only changes the local file {keyring_path(settings)})"
        )
    return keyring_path(settings)


def prepare_new_key(settings: Settings) -> tuple[str, KeyRingConfig]:
    """A ring with a fresh key added and made active (old keys stay for decryption).

    Nothing is written yet: save it with `save_local(settings, config)`.
    """
    _require_local_file(settings, "add the new key and change `active`")
    config, _source = load_config(settings)
    key_id = new_key_id(set(config.keys))
    updated = KeyRingConfig(
        active=key_id, keys={**config.keys, key_id: new_key()}, index_key=config.index_key
    )
    return key_id, updated


def save_local(settings: Settings, config: KeyRingConfig) -> None:
    write_config(_require_local_file(settings, "change it"), config)


def add_active_key(settings: Settings) -> str:
    key_id, config = prepare_new_key(settings)
    save_local(settings, config)
    return key_id


def remove_key(settings: Settings, key_id: str) -> None:
    """Drop a retired key from the local file. The caller has checked that nothing uses it."""
    path = _require_local_file(settings, "remove the key")
    config, _source = load_config(settings)
    if key_id not in config.keys:
        raise KeyRingError(f"no key {key_id!r} in the key ring")
    if key_id == config.active:
        raise KeyRingError(f"key {key_id!r} is the active key; generate another one first")
    remaining = {kid: value for kid, value in config.keys.items() if kid != key_id}
    write_config(
        path, KeyRingConfig(active=config.active, keys=remaining, index_key=config.index_key)
    )
