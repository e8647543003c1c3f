"""A person's consent over HTTP, for staff and the retailer's systems: record a choice on their
behalf (`consent.record`) and look up everything recorded for them (`consent.read`).

Thin adapters over `consent.people`. A choice sent with an API token is recorded as `api` (the
retailer's systems); one sent from a console session as `staff`, and then the words the person
used are required (the evidence of a choice nobody saw them make).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field

from privacyops.consent import people
from privacyops.consent.ledger import Decision, Method
from privacyops.models.consent import ConsentPropagation, ConsentRecord
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppSettings, AppVault, DbSession

router = AdminRouter(prefix="/api/v1/consent", tags=["consent"])

# A person's history is for staff who talk to people; the retailer's systems get decisions.
HistoryReader = Annotated[Principal, require(Permission.consent_history)]
Recorder = Annotated[Principal, require(Permission.consent_record)]


def method_of(principal: Principal) -> Method:
    """`api` for the retailer's systems (a token), `staff` for a person at the console."""
    return Method.api if principal.via == "token" else Method.staff


class ChoiceIn(BaseModel):
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    purpose: str = Field(max_length=200, description="The fideslang data-use key.")
    allowed: bool
    wording: str | None = Field(
        None,
        max_length=5000,
        description="What the person was shown or said; required from a console session.",
    )
    state: str | None = Field(None, max_length=2, description="The person's state (two letters).")
    recorded_at: datetime | None = Field(
        None, description="When the person made the choice (default: now); not in the future."
    )


class RecordOut(BaseModel):
    id: int
    purpose: str
    allowed: bool
    method: str
    recorded_at: datetime
    policy_version: int | None
    state: str | None
    overrides_record: int | None = Field(
        None, description="The explicit yes a GPC signal overrode (a conflict to show)."
    )
    current: bool = Field(
        description="Whether it is the person's current decision (a record dated before a "
        "later choice is kept in the history only)."
    )
    receipt_url: str = Field(description="The record as a Kantara v1.1 consent receipt.")


def _record_out(entry: ConsentRecord, current: bool, settings: Settings) -> RecordOut:
    return RecordOut(
        id=entry.id,
        purpose=entry.purpose,
        allowed=entry.allowed,
        method=entry.method,
        recorded_at=entry.recorded_at,
        policy_version=entry.policy_version,
        state=entry.state,
        overrides_record=entry.overrides_record,
        current=current,
        receipt_url=settings.public_url.rstrip("/") + people.receipt_path(entry.id),
    )


@router.post("/records", response_model=RecordOut, status_code=201)
def record_choice(
    principal: Recorder,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    body: ChoiceIn,
) -> RecordOut:
    """Record a person's choice taken by customer service or the retailer's systems (a phone
    call asking to stop emails, a checkbox at the till). The person is created if unknown."""
    now = utcnow()
    method = method_of(principal)
    identity, choice = people.check_identified_choice(
        **body.model_dump(), now=now, wording_required=method is Method.staff
    )
    who = people.someone(db, vault, identity)
    entry = people.record_choice(
        db,
        vault,
        who,
        choice,
        method,
        actor=principal.actor,
        client=client_address(request),
        now=now,
    )
    return _record_out(entry, people.is_current(db, who, entry), settings)


class DecisionOut(BaseModel):
    purpose: str
    name: str
    allowed: bool
    reason: str = Field(description="Which record decided, or which default applied and why.")
    record_id: int | None
    method: str | None
    recorded_at: datetime | None
    conflict_with: int | None = Field(
        None, description="An explicit yes a later GPC signal overrode (shown to the person)."
    )


class PropagationOut(BaseModel):
    record_id: int
    datastore: str
    recipient: str
    kind: str
    status: str
    due_on: date
    done_at: datetime | None


class PersonOut(BaseModel):
    known: bool = Field(description="False: nobody is known by this identity; defaults apply.")
    decisions: list[DecisionOut]
    history: list[RecordOut] = Field(description=f"Latest first, at most {people.HISTORY_SHOWN}.")
    propagations: list[PropagationOut] = Field(
        description="Opt-outs passed on to advertising and marketing partners."
    )


def _decision_out(found: Decision) -> DecisionOut:
    return DecisionOut(
        purpose=found.purpose,
        name=people.PERSON_PURPOSES[found.purpose].name,
        allowed=found.allowed,
        reason=found.reason,
        record_id=found.record_id,
        method=found.method,
        recorded_at=found.recorded_at,
        conflict_with=found.conflict_with,
    )


def _propagation_out(task: ConsentPropagation) -> PropagationOut:
    return PropagationOut(
        record_id=task.record_id,
        datastore=task.datastore,
        recipient=task.recipient,
        kind=task.kind,
        status=task.status,
        due_on=task.due_on,
        done_at=task.done_at,
    )


def person_out(found: people.PersonView, settings: Settings) -> PersonOut:
    current = {d.record_id for d in found.decisions if d.record_id is not None}
    return PersonOut(
        known=found.known,
        decisions=[_decision_out(d) for d in found.decisions],
        history=[_record_out(e, e.id in current, settings) for e in found.history],
        propagations=[_propagation_out(t) for t in found.propagations],
    )


@router.get("/people", response_model=PersonOut)
def person(
    principal: HistoryReader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    email: Annotated[str | None, Query(max_length=254)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> PersonOut:
    """Everything recorded for a person: the decision per purpose and why, the records (GPC
    conflicts included) and the opt-outs passed on to partners. Looking creates nobody; an
    unknown person gets the defaults and `known: false`. Recorded as `consent.viewed`."""
    who = people.find(db, vault, email, phone)
    found = people.view(
        db, vault, who, state=state, actor=principal.actor, client=client_address(request)
    )
    return person_out(found, settings)
