"""Request and answer shapes of the rights-request API.

Input models only check shape (types, lengths that guard memory); the rules of a valid request
(known type and state, email format, corrections for a correction, ...) are the service's, so
that the Privacy Center form, the API and staff entry refuse the same things with the same
messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from privacyops.dsr.status import Channel, DenialReason

Short = Annotated[str, Field(max_length=300)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CorrectionIn(_In):
    field: Annotated[str, Field(max_length=300)] = ""
    value: Annotated[str, Field(max_length=5000)] = ""


class AgentIn(_In):
    """An authorized agent acting for the consumer, with proof of the consumer's permission."""

    name: Short = ""
    email: Short = ""
    proof: Annotated[str, Field(max_length=5000)] = Field(
        "", description="How the consumer gave permission: signed permission, power of attorney."
    )


class RequestIn(_In):
    type: Short = Field(description="confirm, access, portability, deletion, correction, ...")
    state: Short = Field(description="Two-letter US state code of the consumer's residence.")
    email: Short
    phone: Short | None = None
    loyalty_id: Short | None = None
    details: Annotated[str, Field(max_length=20000)] | None = None
    corrections: Annotated[list[CorrectionIn], Field(max_length=100)] | None = None
    agent: AgentIn | None = None
    specific_pieces: bool = Field(
        False, description="Access: the specific pieces of information, not only categories."
    )
    sensitive_deletion: bool = Field(False, description="Deletion of sensitive information.")
    access_format: Short | None = Field(None, description="json, csv or html")
    appeal_of: Short | None = Field(None, description="Appeal: the reference of the decision.")


class StaffRequestIn(RequestIn):
    channel: Channel = Field(description="How the request arrived: email, postal_mail, phone, ...")


class VerifyIn(_In):
    code: Short
    identity: Short | None = Field(None, description="email (default) or phone")
    extra_points: Annotated[dict[Short, Short], Field(max_length=20)] | None = Field(
        None, description="Stronger verification: further information we hold about you."
    )
    declaration_signed: bool = False
    signer_name: Short | None = None


class ResendIn(_In):
    identity: Short | None = None


class DenyIn(_In):
    reason: DenialReason
    detail: Annotated[str, Field(max_length=5000)] | None = None


class ReasonIn(_In):
    reason: Annotated[str, Field(max_length=5000)] = ""


class NoteIn(_In):
    note: Annotated[str, Field(max_length=5000)] = ""


class TaskIn(_In):
    name: Annotated[str, Field(max_length=200)] = ""


class TaskDoneIn(_In):
    result: Annotated[str, Field(max_length=5000)] = ""
    failed: bool = False


class FieldChangeIn(_In):
    target: Annotated[str, Field(max_length=400, description="dataset.collection.field")]
    value: Annotated[str, Field(max_length=1000)]


class CorrectionsIn(_In):
    changes: Annotated[list[FieldChangeIn], Field(min_length=1, max_length=20)]


# --- answers -------------------------------------------------------------------------------------


class RequestCreated(BaseModel):
    id: str
    status: str
    received_at: datetime
    due_at: datetime
    type: str
    state: str
    verification: str


class CodeCheckOut(BaseModel):
    id: str
    status: str
    identity: str
    verified: bool = Field(description="All identities verified: the request is verified.")
    status_token: str


class ResendOut(BaseModel):
    id: str
    identity: str
    sends_left: int


class RequestStatusOut(BaseModel):
    """What the requester sees: no identity, no free text."""

    id: str
    type: str
    state: str
    status: str
    received_at: datetime
    due_at: datetime
    extended_due_at: datetime | None
    responded_at: datetime | None
    denial_reason: str | None
    appeal_until: datetime | None


class RequestSummary(BaseModel):
    id: str
    type: str
    state: str
    channel: str
    status: str
    received_at: datetime
    due_at: datetime
    extended_due_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    appeal_of: str | None


class RequestList(BaseModel):
    items: list[RequestSummary]
    total: int
    offset: int
    limit: int


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None


class TaskOut(BaseModel):
    id: int
    name: str
    status: str
    result: str | None
    done_by: str | None
    done_at: datetime | None


class DatastoreTaskOut(BaseModel):
    """One collection's part of the request in a datastore: figures and errors, no data."""

    dataset: str
    collection: str
    phase: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    result: dict[str, object] | None


class IdentityOut(BaseModel):
    kind: str
    value: str
    verified_at: datetime | None


class RequestDetail(RequestSummary):
    policy_version: int
    rules: dict[str, object]
    verification: str
    extension_reason: str | None
    responded_at: datetime | None
    denial_reason: str | None
    denial_detail: str | None
    via_agent: bool
    specific_pieces: bool
    access_format: str | None
    entered_by: str | None
    identities: list[IdentityOut]
    details: str | None
    corrections: list[dict[str, str]]
    agent: dict[str, str] | None
    evidence: dict[str, object] | None
    events: list[EventOut]
    tasks: list[TaskOut]
    datastore_tasks: list[DatastoreTaskOut] = []
    correctable_fields: list[str] = []
    erased: bool = False
