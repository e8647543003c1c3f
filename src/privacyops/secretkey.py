"""The secret that signs session and CSRF tokens: from settings, or a local file made once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from privacyops.settings import Settings

SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not the secret)


def secret_key_path(settings: Settings) -> Path:
    return settings.data_dir / SECRET_FILE


def ensure_secret_key(settings: Settings) -> str | None:
    """Create data_dir/secret.key if no secret is configured; returns what it did, if anything."""
    if settings.secret_key is not None:
        return None
    path = secret_key_path(settings)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, secrets.token_urlsafe(48))
    return f"generated a signing secret in {path} (set PRIVACYOPS_SECRET_KEY to use your own)"


def load_secret_key(settings: Settings) -> str:
    """The configured secret, else the local file's; creates the file on first use."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    ensure_secret_key(settings)
    return secret_key_path(settings).read_text(encoding="utf-8").strip()


def _write_private(path: Path, text: str) -> None:
    # Owner-only from the first byte: never a moment where others could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
