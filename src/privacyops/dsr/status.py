"""Statuses, channels, denial reasons, and the one table of allowed transitions."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from privacyops.errors import Conflict


class Status(StrEnum):
    received = "received"
    awaiting_verification = "awaiting_verification"
    verified = "verified"
    in_progress = "in_progress"
    awaiting_review = "awaiting_review"
    completed = "completed"
    denied = "denied"
    canceled = "canceled"
    needs_attention = "needs_attention"


class Channel(StrEnum):
    web = "web"
    api = "api"
    email = "email"
    postal_mail = "postal_mail"
    phone = "phone"
    in_store = "in_store"


# Channels staff enter requests from; web and api requests come in by themselves.
STAFF_CHANNELS = frozenset({Channel.email, Channel.postal_mail, Channel.phone, Channel.in_store})


class DenialReason(StrEnum):
    could_not_verify = "could_not_verify"
    exemption = "exemption"
    manifestly_unfounded_or_excessive = "manifestly_unfounded_or_excessive"
    not_a_resident = "not_a_resident"
    no_data_found = "no_data_found"
    duplicate = "duplicate"
    other = "other"


# What the requester reads for each reason (the detail staff give follows it).
DENIAL_TEXT: Mapping[DenialReason, str] = MappingProxyType(
    {
        DenialReason.could_not_verify: (
            "We could not verify your identity by the due date, so we cannot act on the request."
        ),
        DenialReason.exemption: (
            "The law exempts the information concerned from this request (legal basis below)."
        ),
        DenialReason.manifestly_unfounded_or_excessive: (
            "The request is manifestly unfounded or excessive (for example, repeated requests)."
        ),
        DenialReason.not_a_resident: (
            "The right you asked for is granted by a state law that does not apply to you "
            "as a resident of the state you gave."
        ),
        DenialReason.no_data_found: "We found no personal information about you to act on.",
        DenialReason.duplicate: "The request repeats one that we are already handling.",
        DenialReason.other: "We cannot act on the request, for the reason below.",
    }
)
# Reasons that need staff's own words: the legal basis, or the reason itself.
DETAIL_REQUIRED = frozenset({DenialReason.exemption, DenialReason.other})

OPEN = frozenset(
    {
        Status.received,
        Status.awaiting_verification,
        Status.verified,
        Status.in_progress,
        Status.awaiting_review,
        Status.needs_attention,
    }
)
CLOSED = frozenset({Status.completed, Status.denied, Status.canceled})

_ENDINGS = frozenset({Status.denied, Status.canceled})
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.received: _ENDINGS | {Status.awaiting_verification, Status.verified},
        Status.awaiting_verification: _ENDINGS | {Status.verified, Status.needs_attention},
        Status.verified: _ENDINGS | {Status.in_progress, Status.awaiting_review},
        Status.in_progress: _ENDINGS
        | {Status.completed, Status.awaiting_review, Status.needs_attention},
        Status.awaiting_review: _ENDINGS | {Status.in_progress, Status.completed},
        Status.needs_attention: _ENDINGS
        | {
            Status.awaiting_verification,
            Status.in_progress,
            Status.awaiting_review,
            Status.completed,
        },
        Status.completed: frozenset(),
        Status.denied: frozenset(),
        Status.canceled: frozenset(),
    }
)


class InvalidTransition(Conflict):
    title = "Invalid transition"


def check_transition(current: str, target: Status, what: str | None = None) -> None:
    """Raise `InvalidTransition` (409) naming the current status unless the table allows it."""
    status = Status(current)
    if target not in TRANSITIONS[status]:
        action = what or f"move to {target.value}"
        raise InvalidTransition(f"cannot {action}: the request is {status.value}")
