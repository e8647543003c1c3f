"""`privacyops keys ...`: the vault's key ring. Never prints key material."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from privacyops import runtime
from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.db import unit_of_work
from privacyops.errors import PrivacyOpsError
from privacyops.settings import get_settings
from privacyops.vault import keyring, repository, rotation
from privacyops.vault.service import Vault

keys_app = typer.Typer(help="The vault's encryption keys.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
ACTOR = "cli"


def _session_factory() -> sessionmaker[Session]:
    # Looked up on the module at call time, so that tests can point it at their transaction.
    return runtime.open_session_factory(get_settings())


@keys_app.command("generate")
def generate() -> None:
    """Add a new key to the local key ring and make it active.

    New data is encrypted under it at once; old keys stay so that what they protect stays
    readable. Run `privacyops keys rotate` next to move everything under the new key.
    """
    settings = get_settings()
    key_id, config = keyring.prepare_new_key(settings)
    with unit_of_work(_session_factory()) as db:
        # The event is written first: if the database cannot take it, no key is added.
        record(db, AuditAction.keys_generated, actor=ACTOR, target=f"key:{key_id}")
        keyring.save_local(settings, config)
    out.print(f"generated vault key {key_id}; it is now the active key", markup=False)
    out.print("run `privacyops keys rotate` to move existing keys and secrets under it")


@keys_app.command("status")
def status() -> None:
    """Show the key ids, which one is active, and how much is still under each."""
    settings = get_settings()
    with Vault.from_settings(settings) as vault:
        subject_keys = vault.keystore.count_by_key()
        with unit_of_work(_session_factory()) as db:
            secrets = repository.count_secrets_by_key(db)
        ring = vault.ring
    out.print(f"key ring: {ring.source}", markup=False)
    for key_id in sorted(set(ring.keys) | set(subject_keys) | set(secrets)):
        state = "active" if key_id == ring.active_id else "old"
        if key_id not in ring.keys:
            state = "MISSING"
        out.print(
            f"{key_id}  {state}  {subject_keys.get(key_id, 0)} subject key(s), "
            f"{secrets.get(key_id, 0)} secret(s)",
            markup=False,
        )
    out.print("index key: configured (blind indexes)")


@keys_app.command("rotate")
def rotate(
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Rows per committed batch.")
    ] = rotation.DEFAULT_BATCH,
) -> None:
    """Move every subject data key and platform secret under the active key.

    Subject data itself is not re-encrypted: it is under each subject's own data key, and only
    that small key is re-wrapped (envelope encryption). Safe to interrupt: run it again to
    continue where it stopped.
    """
    settings = get_settings()
    factory = _session_factory()
    with Vault.from_settings(settings) as vault:
        todo = rotation.plan(vault, factory)
        if todo.total == 0:
            out.print(f"nothing to rotate: everything is under key {vault.ring.active_id}")
            return
        with _progress() as progress:
            task = progress.add_task(f"rotating to key {vault.ring.active_id}", total=todo.total)
            result = rotation.rotate(
                vault, factory, batch_size, on_batch=lambda n: progress.advance(task, n)
            )
    with unit_of_work(factory) as db:
        record(
            db,
            AuditAction.keys_rotated,
            actor=ACTOR,
            target=f"key:{result.key_id}",
            details={"subject_keys": result.subject_keys, "secrets": result.secrets},
        )
    out.print(
        f"rotated {result.subject_keys} subject key(s) and {result.secrets} secret(s) "
        f"to key {result.key_id}",
        markup=False,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


@keys_app.command("retire")
def retire(key_id: Annotated[str, typer.Argument(help="Id of the old key to remove.")]) -> None:
    """Remove an old key from the local key ring, once nothing is under it any more."""
    settings = get_settings()
    with Vault.from_settings(settings) as vault:
        keys_left = vault.keystore.count_by_key().get(key_id, 0)
        with unit_of_work(_session_factory()) as db:
            secrets_left = repository.count_secrets_by_key(db).get(key_id, 0)
    if keys_left or secrets_left:
        raise PrivacyOpsError(
            f"key {key_id} still protects {keys_left} subject key(s) and {secrets_left} "
            "secret(s); run `privacyops keys rotate` first"
        )
    keyring.remove_key(settings, key_id)
    out.print(f"retired vault key {key_id}", markup=False)
