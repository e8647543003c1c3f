"""`privacyops keys generate | status | rotate | retire` against the test database."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from privacyops.cli import app
from privacyops.errors import PrivacyOpsError
from privacyops.models.audit import AuditEvent
from privacyops.settings import Settings
from privacyops.vault.keyring import KeyRingError, keyring_path, load_keyring
from privacyops.vault.secrets import get_secret, set_secret
from privacyops.vault.service import Vault
from tests.vault.support import make_vault

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("use_test_database")


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["keys", *args])


def key_material(settings: Settings) -> list[str]:
    ring = json.loads(keyring_path(settings).read_text())
    return [*ring["keys"].values(), ring["index_key"]]


def test_generate_status_rotate_retire(settings: Settings, db: Session) -> None:
    with make_vault(settings) as vault:
        first = vault.ring.active_id
        vault.create_subject_key("s1")
        token = vault.encrypt_for_subject("s1", "hello", "ctx")
        set_secret(db, vault, "smtp", "pw")
        db.commit()

    generated = invoke("generate")
    assert generated.exit_code == 0, generated.output
    second = load_keyring(settings).active_id
    assert second != first
    assert f"generated vault key {second}" in generated.stdout
    assert set(load_keyring(settings).keys) == {first, second}

    status = invoke("status")
    assert status.exit_code == 0, status.output
    assert status.stdout.splitlines() == [
        f"key ring: {keyring_path(settings)}",
        *sorted(
            [
                f"{first}  old  1 subject key(s), 1 secret(s)",
                f"{second}  active  0 subject key(s), 0 secret(s)",
            ]
        ),
        "index key: configured (blind indexes)",
    ]
    for material in key_material(settings):
        assert material not in status.output

    refused = invoke("retire", first)
    assert isinstance(refused.exception, PrivacyOpsError)
    assert "still protects 1 subject key(s) and 1 secret(s)" in str(refused.exception)

    rotated = invoke("rotate", "--batch-size", "1")
    assert rotated.exit_code == 0, rotated.output
    assert f"rotated 1 subject key(s) and 1 secret(s) to key {second}" in rotated.stdout
    again = invoke("rotate")
    assert f"nothing to rotate: everything is under key {second}" in again.stdout

    retired = invoke("retire", first)
    assert retired.exit_code == 0, retired.output
    assert set(load_keyring(settings).keys) == {second}
    with Vault.from_settings(settings) as after:
        assert after.decrypt_for_subject("s1", token, "ctx") == "hello"
        assert get_secret(db, after, "smtp") == "pw"

    events = db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("keys.generated", "cli", f"key:{second}"),
        ("keys.rotated", "cli", f"key:{second}"),
    ]
    assert events[1].details == {"subject_keys": 1, "secrets": 1}


def test_generate_refuses_a_ring_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    ring = json.dumps({"active": "a1", "keys": {"a1": key}, "index_key": key})
    monkeypatch.setenv("PRIVACYOPS_VAULT_KEYRING", ring)
    result = invoke("generate")
    assert isinstance(result.exception, KeyRingError)
    assert "comes from PRIVACYOPS_VAULT_KEYRING" in str(result.exception)
    assert key not in str(result.exception)


def test_status_without_a_ring_says_how_to_make_one() -> None:
    result = invoke("status")
    assert isinstance(result.exception, KeyRingError)
    assert "run `privacyops setup`" in str(result.exception)
