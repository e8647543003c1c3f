"""Connected datastores: registering one (declarations checked against the policy, secrets into
the vault), and opening their connectors for a request. Plain Python; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.connectors.datasets import DeclaredDataset, check_dataset_text
from privacyops.connectors.email import AckLinks, EmailProcessorConnector
from privacyops.connectors.graph import Graph, build_graph
from privacyops.connectors.http import HttpConnector, HttpConnectorConfig
from privacyops.connectors.manual import ManualConnector
from privacyops.connectors.port import Connector, ConnectorError
from privacyops.connectors.sql import SqlConnector
from privacyops.errors import FieldProblem, InvalidInput, NotFound
from privacyops.models.connectors import Datastore
from privacyops.models.types import utcnow
from privacyops.policy.manifest import PolicyManifest
from privacyops.vault import secrets
from privacyops.vault.service import Vault

KINDS = ("sql", "http", "email", "manual")
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"


def secret_name(datastore: str, name: str) -> str:
    return f"datastore:{datastore}:{name}"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [FieldProblem(field, message)])


def check_declarations(text: str, filename: str, manifest: PolicyManifest) -> list[DeclaredDataset]:
    """The declarations, or `InvalidInput` listing every problem with its line and field."""
    checked = check_dataset_text(text, filename, manifest)
    if not checked.ok:
        raise InvalidInput(
            f"{filename}: the dataset declarations have {len(checked.errors)} error(s)",
            checked.errors,
        )
    return checked.datasets


def register(
    db: Session,
    vault: Vault,
    manifest: PolicyManifest,
    *,
    key: str,
    kind: str,
    declarations: str,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    secret_values: Mapping[str, str] | None = None,
    recipient: str | None = None,
    actor: str,
    filename: str = "declarations",
) -> Datastore:
    """Add or replace a datastore. Its declarations must pass `datasets check` against the
    policy in force; its secrets (a URL with a password, an API token) go to the vault."""
    if not re.match(KEY_PATTERN, key or ""):
        raise _invalid("key", "lower-case letters, digits, - and _ (at most 100)")
    if kind not in KINDS:
        raise _invalid("kind", f"one of {', '.join(KINDS)}")
    if recipient is not None and recipient not in {r.key for r in manifest.recipients}:
        raise _invalid("recipient", f"{recipient!r} is not a recipient the policy names")
    datasets = check_declarations(declarations, filename, manifest)
    _clashes(db, key, datasets)
    _check_config(kind, dict(config or {}), dict(secret_values or {}))
    found = db.get(Datastore, key)
    store = found or Datastore(key=key)
    store.name = name or key
    store.kind = kind
    store.config = dict(config or {})
    store.declarations = declarations
    store.recipient = recipient
    store.enabled = True
    store.updated_at = utcnow()
    if found is None:
        db.add(store)
    for secret, value in (secret_values or {}).items():
        secrets.set_secret(db, vault, secret_name(key, secret), value)
    record(
        db,
        AuditAction.datastore_saved,
        actor=actor,
        target=f"datastore:{key}",
        details={"kind": kind, "datasets": [d.dataset.fides_key for d in datasets]},
    )
    db.flush()
    return store


def _clashes(db: Session, key: str, datasets: list[DeclaredDataset]) -> None:
    """A dataset key names one datastore: the engine finds the connector by it."""
    mine = {d.dataset.fides_key for d in datasets}
    for other in enabled(db):
        if other.key == key:
            continue
        taken = mine & {d.dataset.fides_key for d in _parse(other)}
        if taken:
            raise _invalid("declarations", f"dataset {sorted(taken)[0]!r} is in {other.key!r}")


def _check_config(kind: str, config: dict[str, Any], secret_values: dict[str, str]) -> None:
    if kind == "sql" and not secret_values.get("url"):
        raise _invalid("url", "a SQL datastore needs its SQLAlchemy URL (kept in the vault)")
    if kind == "http":
        HttpConnectorConfig.parse(config)
    if kind == "email" and not config.get("to"):
        raise _invalid("config.to", "the processor's address for instructions")


def enabled(db: Session) -> list[Datastore]:
    return list(db.scalars(select(Datastore).where(Datastore.enabled).order_by(Datastore.key)))


def get(db: Session, key: str) -> Datastore:
    store = db.get(Datastore, key)
    if store is None:
        raise NotFound(f"no datastore named {key!r}")
    return store


def _parse(store: Datastore) -> list[DeclaredDataset]:
    # Checked when saved; parsed again without the policy (the graph needs only the shape).
    return check_dataset_text(store.declarations, f"datastore {store.key}", None).datasets


@dataclass
class Catalog:
    """The graph of every enabled datastore's declarations, and which datastore holds a dataset."""

    graph: Graph
    datastore_of: dict[str, str]  # dataset key -> datastore key
    stores: dict[str, Datastore]


def catalog(db: Session) -> Catalog:
    declared: list[DeclaredDataset] = []
    owner: dict[str, str] = {}
    stores = {}
    for store in enabled(db):
        stores[store.key] = store
        for dataset in _parse(store):
            declared.append(dataset)
            owner[dataset.dataset.fides_key] = store.key
    return Catalog(build_graph(declared), owner, stores)


@dataclass(frozen=True)
class ConnectorSettings:
    """What opening a connector needs, read inside a session so connectors outlive it."""

    key: str
    name: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, str]


def connector_settings(db: Session, vault: Vault, store: Datastore) -> ConnectorSettings:
    names = {"sql": ["url"]}.get(store.kind, [])
    if store.kind == "http":
        names = HttpConnectorConfig.parse(store.config).secret_names()
    values = {}
    for secret in names:
        try:
            values[secret] = secrets.get_secret(db, vault, secret_name(store.key, secret))
        except NotFound:
            continue
    return ConnectorSettings(store.key, store.name, store.kind, dict(store.config), values)


@dataclass(frozen=True)
class RequestContext:
    """What a connector acting for one request needs beyond its settings: the email connector
    names the person to the processor and records its instruction in our database. An opt-out
    passed on to a partner outside any request gives `propagation_id` and no `request_id`."""

    request_id: str | None
    identities: Mapping[str, str]
    session_factory: sessionmaker[Session]
    vault: Vault
    ack_links: AckLinks
    propagation_id: int | None = None


def open_connector(settings: ConnectorSettings, context: RequestContext | None = None) -> Connector:
    """The datastore's connector; one that cannot even be built answers every call with the
    reason, so the engine reports that datastore (and only it) as needing attention."""
    try:
        return _build(settings, context)
    except ConnectorError as error:
        return Unavailable(settings.key, error)


def _build(settings: ConnectorSettings, context: RequestContext | None) -> Connector:
    if settings.kind == "sql":
        if "url" not in settings.secrets:
            raise ConnectorError("its URL is missing from the vault", datastore=settings.key)
        return SqlConnector(settings.secrets["url"], name=settings.key)
    if settings.kind == "manual":
        return ManualConnector(settings.key, str(settings.config.get("instructions", "")))
    if settings.kind == "http":
        config = HttpConnectorConfig.parse(settings.config)
        return HttpConnector(config, name=settings.key, secrets=settings.secrets)
    if settings.kind == "email":
        return _email(settings, context)
    raise ConnectorError(f"no connector for kind {settings.kind!r}", datastore=settings.key)


def _email(settings: ConnectorSettings, context: RequestContext | None) -> Connector:
    if context is None:
        raise ConnectorError(
            "a processor is instructed per request; none given", datastore=settings.key
        )
    return EmailProcessorConnector(
        settings.key,
        str(settings.config.get("to", "")),
        request_id=context.request_id,
        propagation_id=context.propagation_id,
        identities=context.identities,
        session_factory=context.session_factory,
        vault=context.vault,
        links=context.ack_links,
        instructions=str(settings.config.get("instructions", "")),
        label=settings.name,
    )


class Unavailable:
    """A connector that could not be opened: every operation raises why."""

    def __init__(self, name: str, error: ConnectorError) -> None:
        self.name = name
        self.error = error

    def _fail(self, *_args: Any, **_kwargs: Any) -> Any:
        raise self.error

    test_connection = retrieve = mask = delete = correct = apply_opt_out = _fail

    def close(self) -> None:
        """Nothing was opened."""


@contextmanager
def opened(
    settings: Mapping[str, ConnectorSettings], context: RequestContext | None = None
) -> Iterator[dict[str, Connector]]:
    """Connectors by datastore key, closed at the end whatever happens."""
    connectors: dict[str, Connector] = {}
    try:
        for key, item in settings.items():
            connectors[key] = open_connector(item, context)
        yield connectors
    finally:
        for connector in connectors.values():
            connector.close()
