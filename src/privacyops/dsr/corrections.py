"""Corrections: staff turn what the requester wrote ("my last name is Smith") into changes of
declared fields, then the engine applies them where the subject's rows are.

Only fields declared `correctable` in a datastore's declarations can be changed: the engineers
who know the datastore decide which columns a correction may touch (never a key, an amount or a
hash). The requester's words and the mapped changes are kept under the subject's key; each
applied change keeps the old and the new value there too (`dsr_collection_tasks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.connectors import registry
from privacyops.dsr.records import FULFIL_FLAG, add_event, audit, load, seal_json, unseal_json
from privacyops.dsr.status import CLOSED, InvalidTransition
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.models.dsr import DataRequest
from privacyops.rights.rules import RequestType
from privacyops.vault.service import Vault

MAX_CHANGES = 20
MAX_VALUE = 1000


@dataclass(frozen=True)
class FieldChange:
    target: str  # dataset.collection.field
    value: str

    @property
    def dataset(self) -> str:
        return self.target.split(".", 2)[0]

    @property
    def collection(self) -> str:
        return self.target.split(".", 2)[1]

    @property
    def field(self) -> str:
        return self.target.split(".", 2)[2]


def correctable_fields(db: Session) -> list[str]:
    """Every `dataset.collection.field` a correction may change, in the connected datastores."""
    graph = registry.catalog(db).graph
    return [
        f"{key[0]}.{key[1]}.{name}"
        for key, node in graph.nodes.items()
        for name, info in node.fields.items()
        if info.correctable
    ]


def set_changes(
    db: Session,
    vault: Vault,
    request_id: str,
    changes: Sequence[tuple[str, str]],
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    """Record the changes staff mapped from the requester's corrections; the engine applies
    them (now, if the request is already in progress). Replaces earlier mappings."""
    request = load(db, request_id, lock=True)
    if request.type != RequestType.correction:
        raise InvalidTransition(f"cannot map corrections: request {request.id} is a {request.type}")
    if request.status in CLOSED:
        raise InvalidTransition(f"cannot map corrections: the request is {request.status}")
    checked = _checked(db, changes)
    payload = unseal_json(vault, request, "payload", request.payload_ciphertext) or {}
    payload["changes"] = [{"target": c.target, "value": c.value} for c in checked]
    request.payload_ciphertext = seal_json(vault, request, "payload", payload)
    note = "; ".join(c.target for c in checked)
    add_event(db, vault, request, actor=actor, action="corrections_mapped", now=now, note=note)
    audit(
        db,
        vault,
        request,
        AuditAction.request_corrections_mapped,
        actor=actor,
        client=client,
        details={"fields": [c.target for c in checked]},
    )
    db.info.setdefault(FULFIL_FLAG, set()).add(request.id)
    db.flush()
    return request


def _checked(db: Session, changes: Sequence[tuple[str, str]]) -> list[FieldChange]:
    if not changes or len(changes) > MAX_CHANGES:
        message = f"give 1 to {MAX_CHANGES} changes"
        raise InvalidInput(f"changes: {message}", [FieldProblem("changes", message)])
    allowed = set(correctable_fields(db))
    problems = []
    for index, (target, value) in enumerate(changes):
        if target not in allowed:
            problems.append(
                FieldProblem(
                    f"changes[{index}].target",
                    f"{target!r} is not a correctable field of a connected datastore",
                )
            )
        if len(value) > MAX_VALUE:
            problems.append(
                FieldProblem(f"changes[{index}].value", f"at most {MAX_VALUE} characters")
            )
    if problems:
        raise InvalidInput(f"{problems[0].field}: {problems[0].message}", problems)
    return [FieldChange(target, value) for target, value in changes]


def changes_of(vault: Vault, request: DataRequest) -> list[FieldChange]:
    payload = unseal_json(vault, request, "payload", request.payload_ciphertext) or {}
    return [FieldChange(str(c["target"]), str(c["value"])) for c in payload.get("changes", [])]
