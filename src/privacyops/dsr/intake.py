"""Checking a request's input: every problem found, each naming its field, nothing stored.

The same rules serve the Privacy Center form, the public API and staff entry. Error messages
name the field and what is expected and never repeat the value (it may be personal data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from privacyops.dsr.schemas import AgentIn, RequestIn
from privacyops.errors import FieldProblem, InvalidInput
from privacyops.identity.normalize import (
    IdentityKind,
    normalize_email,
    normalize_loyalty_id,
    normalize_phone,
)
from privacyops.rights.rules import RequestType, normalise_state

MAX_DETAILS = 4000
MAX_CORRECTIONS = 20
MAX_CORRECTION_FIELD = 100
MAX_CORRECTION_VALUE = 1000
MAX_AGENT_NAME = 200
MAX_AGENT_PROOF = 2000
ACCESS_FORMATS = ("json", "csv", "html")
_REFERENCE = re.compile(r"^R-[0-9A-Z]{8,12}$")


@dataclass
class ValidRequest:
    type: RequestType
    state: str
    identities: dict[str, str]  # kind -> normalised value; email first
    details: str | None
    corrections: list[dict[str, str]]
    agent: dict[str, str] | None
    specific_pieces: bool
    sensitive_deletion: bool
    access_format: str | None
    appeal_of: str | None

    @property
    def email(self) -> str:
        return self.identities[IdentityKind.email]

    @property
    def via_agent(self) -> bool:
        return self.agent is not None

    def payload(self) -> dict[str, Any]:
        """What is sealed under the subject's key: the free text of the request."""
        return {"details": self.details, "corrections": self.corrections, "agent": self.agent}


@dataclass
class _Problems:
    items: list[FieldProblem] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.items.append(FieldProblem(field=name, message=message))

    def collect(self, exc: InvalidInput) -> None:
        self.items.extend(exc.problems)

    def raise_if_any(self) -> None:
        if self.items:
            message = "; ".join(f"{p.field}: {p.message}" for p in self.items)
            raise InvalidInput(message, self.items)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def validate(data: RequestIn) -> ValidRequest:
    problems = _Problems()
    request_type = _type(data.type, problems)
    state = _state(data.state, problems)
    identities = _identities(data, problems)
    details = _details(data.details, problems)
    corrections = _corrections(data, request_type, problems)
    agent = _agent(data.agent, problems)
    _flags(data, request_type, problems)
    access_format = _access_format(data, request_type, problems)
    appeal_of = _appeal_of(data, request_type, problems)
    problems.raise_if_any()
    assert request_type is not None
    assert state is not None
    return ValidRequest(
        type=request_type,
        state=state,
        identities=identities,
        details=details,
        corrections=corrections,
        agent=agent,
        specific_pieces=data.specific_pieces,
        sensitive_deletion=data.sensitive_deletion,
        access_format=access_format,
        appeal_of=appeal_of,
    )


def _type(value: str, problems: _Problems) -> RequestType | None:
    try:
        return RequestType(value.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in RequestType)
        problems.add("type", f"unknown request type (one of {known})")
        return None


def _state(value: str, problems: _Problems) -> str | None:
    try:
        return normalise_state(value)
    except InvalidInput:
        problems.add("state", "unknown US state (use a two-letter code such as CA)")
        return None


def _identities(data: RequestIn, problems: _Problems) -> dict[str, str]:
    found: dict[str, str] = {}
    checks = (
        (IdentityKind.email, data.email, normalize_email),
        (IdentityKind.phone, data.phone, normalize_phone),
        (IdentityKind.loyalty_id, data.loyalty_id, normalize_loyalty_id),
    )
    for kind, value, normalise in checks:
        if _blank(value):
            if kind is IdentityKind.email:
                problems.add("email", "give the email address we can reach you at")
            continue
        assert value is not None
        try:
            found[kind.value] = normalise(value, kind.value)
        except InvalidInput as exc:
            problems.collect(exc)
    return found


def _details(value: str | None, problems: _Problems) -> str | None:
    if _blank(value):
        return None
    assert value is not None
    if len(value) > MAX_DETAILS:
        problems.add("details", f"at most {MAX_DETAILS} characters")
    return value


def _corrections(
    data: RequestIn, request_type: RequestType | None, problems: _Problems
) -> list[dict[str, str]]:
    items = data.corrections or []
    if request_type is not RequestType.correction:
        if items:
            problems.add("corrections", "corrections are only for a correction request")
        return []
    if not items:
        problems.add("corrections", "say which information to correct and the correct value")
        return []
    if len(items) > MAX_CORRECTIONS:
        problems.add("corrections", f"at most {MAX_CORRECTIONS} corrections per request")
        return []
    result = []
    for i, item in enumerate(items):
        name = f"corrections[{i}]"
        if _blank(item.field) or len(item.field) > MAX_CORRECTION_FIELD:
            problems.add(
                f"{name}.field", f"name the information (1 to {MAX_CORRECTION_FIELD} characters)"
            )
        if _blank(item.value) or len(item.value) > MAX_CORRECTION_VALUE:
            problems.add(
                f"{name}.value", f"give the correct value (1 to {MAX_CORRECTION_VALUE} characters)"
            )
        result.append({"field": item.field, "value": item.value})
    return result


def _agent(agent: AgentIn | None, problems: _Problems) -> dict[str, str] | None:
    if agent is None:
        return None
    result: dict[str, str] = {}
    if _blank(agent.name) or len(agent.name) > MAX_AGENT_NAME:
        problems.add("agent.name", f"give the agent's name (1 to {MAX_AGENT_NAME} characters)")
    result["name"] = agent.name
    try:
        result["email"] = normalize_email(agent.email, "agent.email")
    except InvalidInput as exc:
        problems.collect(exc)
    if _blank(agent.proof) or len(agent.proof) > MAX_AGENT_PROOF:
        problems.add(
            "agent.proof",
            "describe the consumer's signed permission or power of attorney "
            f"(1 to {MAX_AGENT_PROOF} characters)",
        )
    result["proof"] = agent.proof
    return result


def _flags(data: RequestIn, request_type: RequestType | None, problems: _Problems) -> None:
    if data.specific_pieces and request_type not in (RequestType.access, None):
        problems.add("specific_pieces", "only an access request can ask for specific pieces")
    if data.sensitive_deletion and request_type not in (RequestType.deletion, None):
        problems.add("sensitive_deletion", "only for a deletion request")


def _access_format(
    data: RequestIn, request_type: RequestType | None, problems: _Problems
) -> str | None:
    if _blank(data.access_format):
        return None
    assert data.access_format is not None
    value = data.access_format.strip().lower()
    if request_type not in (RequestType.access, RequestType.portability, None):
        problems.add("access_format", "only for an access or portability request")
    elif value not in ACCESS_FORMATS:
        problems.add("access_format", f"one of {', '.join(ACCESS_FORMATS)}")
    return value


def _appeal_of(
    data: RequestIn, request_type: RequestType | None, problems: _Problems
) -> str | None:
    value = (data.appeal_of or "").strip().upper()
    if request_type is not RequestType.appeal:
        if value:
            problems.add("appeal_of", "only an appeal refers to an earlier request")
        return None
    if not _REFERENCE.match(value):
        problems.add("appeal_of", "give the reference of the decision you appeal (R-...)")
        return None
    return value
