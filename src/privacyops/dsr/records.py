"""Shared by intake, verification and workflow: sealed fields, events, transitions, audit.

Free text and identities are sealed under the data subject's own key, each bound to its row
and field: a ciphertext copied to another row or column does not open.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.dsr import repository
from privacyops.dsr.status import CLOSED, Status, check_transition
from privacyops.errors import NotFound
from privacyops.models.dsr import DataRequest, RequestEvent, RequestIdentity
from privacyops.vault.service import Vault

CONSUMER = "consumer"
SYSTEM = "system"


FULFIL_FLAG = "privacyops.dsr.fulfil"


def request_context(request_id: str, field: str) -> str:
    return f"dsr_requests:{request_id}:{field}"


def identity_context(identity_id: str, kind: str) -> str:
    return f"dsr_request_identities:{identity_id}:{kind}"


def seal(vault: Vault, request: DataRequest, field: str, value: str) -> str:
    return vault.encrypt_for_subject(request.subject_id, value, request_context(request.id, field))


def unseal(vault: Vault, request: DataRequest, field: str, token: str) -> str:
    return vault.decrypt_for_subject(request.subject_id, token, request_context(request.id, field))


def seal_json(vault: Vault, request: DataRequest, field: str, value: Any) -> str:
    return seal(vault, request, field, json.dumps(value, ensure_ascii=False, sort_keys=True))


def unseal_json(vault: Vault, request: DataRequest, field: str, token: str | None) -> Any:
    if token is None:
        return None
    return json.loads(unseal(vault, request, field, token))


def identity_value(vault: Vault, request: DataRequest, identity: RequestIdentity) -> str:
    return vault.decrypt_for_subject(
        request.subject_id, identity.ciphertext, identity_context(identity.id, identity.kind)
    )


def load(db: Session, request_id: str, *, lock: bool = False) -> DataRequest:
    found = (
        repository.get_request_for_update(db, request_id)
        if lock
        else repository.get_request(db, request_id)
    )
    if found is None:
        raise NotFound(f"no request {request_id}")
    return found


def add_event(
    db: Session,
    vault: Vault | None,
    request: DataRequest,
    *,
    actor: str,
    action: str,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> RequestEvent:
    event = RequestEvent(
        request_id=request.id,
        at=now,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
    )
    repository.add(db, event)
    if note:
        assert vault is not None, "a note is sealed under the subject's key: pass the vault"
        event.note_ciphertext = seal(vault, request, f"event:{event.id}", note)
        db.flush()
    return event


def audit(
    db: Session,
    vault: Vault,
    request: DataRequest,
    action: AuditAction,
    *,
    actor: str,
    client: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit event naming the request and (hashed) its subject; details carry no personal
    data, only the request's type, state and statuses."""
    record(
        db,
        action,
        actor=actor,
        subject=vault.subject_hash(request.subject_id),
        target=f"request:{request.id}",
        client=client,
        details={"type": request.type, "state": request.state, **(details or {})},
    )


def move(
    db: Session,
    vault: Vault,
    request: DataRequest,
    target: Status,
    *,
    actor: str,
    action: AuditAction,
    now: datetime,
    client: str | None = None,
    note: str | None = None,
    what: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One transition: checked against the table, kept as a request event and an audit event."""
    current = request.status
    check_transition(current, target, what)
    request.status = target.value
    if target == Status.in_progress:
        # The datastore work starts once this transition is committed (see `web.deps`).
        db.info.setdefault(FULFIL_FLAG, set()).add(request.id)
    if target in CLOSED:
        request.closed_at = now
    add_event(
        db,
        vault,
        request,
        actor=actor,
        action=action.value,
        now=now,
        from_status=current,
        to_status=target.value,
        note=note,
    )
    audit(
        db,
        vault,
        request,
        action,
        actor=actor,
        client=client,
        details={"from": current, "to": target.value, **(details or {})},
    )
    db.flush()
