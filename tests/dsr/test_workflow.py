"""Staff decisions: the transition table, tasks, extension rules, denial notices and appeals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.dsr import service, workflow
from privacyops.dsr.status import TRANSITIONS, InvalidTransition, Status
from privacyops.errors import InvalidInput
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import DataRequest, RequestEvent
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import LINKS, T0, last_code, messages, submit

STAFF = "staff:7"


def verified(db: Session, vault: Vault, policy: PolicyVersion, **overrides: object) -> DataRequest:
    request = submit(db, vault, policy, **overrides)  # type: ignore[arg-type]
    service.verify(db, vault, request.id, last_code(db, vault, request.id), now=T0)
    return request


def audit_actions(db: Session, request: DataRequest) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.target == f"request:{request.id}")
    return list(db.scalars(query.order_by(AuditEvent.seq)))


def test_terminal_statuses_go_nowhere() -> None:
    for status in (Status.completed, Status.denied, Status.canceled):
        assert TRANSITIONS[status] == frozenset()
    for status, targets in TRANSITIONS.items():
        if status not in (Status.completed, Status.denied, Status.canceled):
            assert {Status.denied, Status.canceled} <= targets


def test_approve_without_tasks_completes_and_tells_the_requester(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)

    workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0 + timedelta(days=1))

    assert request.status == "completed"
    assert request.responded_at == request.closed_at == T0 + timedelta(days=1)
    completion = messages(db, vault, request.id)[-1]
    assert completion.template == "dsr_completion"
    assert f"http://testserver/requests/{request.id}?token=" in completion.text
    assert audit_actions(db, request)[-1] == "request.completed"


def test_unverified_request_cannot_be_approved(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = submit(db, vault, policy)

    with pytest.raises(InvalidTransition, match="awaiting_verification"):
        workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)


def test_tasks_hold_completion_until_done(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = verified(db, vault, policy, type="deletion")
    assert request.status == "awaiting_review"
    shop = workflow.add_task(db, request.id, "shop database", actor=STAFF, now=T0)
    workflow.add_task(db, request.id, "newsletter tool", actor=STAFF, now=T0)

    workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)
    assert request.status == "in_progress"
    with pytest.raises(InvalidTransition, match="in_progress with tasks pending"):
        workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)

    workflow.task_done(db, vault, request.id, shop.id, "3 rows masked", actor=STAFF, now=T0)
    with pytest.raises(InvalidTransition, match="already done"):
        workflow.task_done(db, vault, request.id, shop.id, "again", actor=STAFF, now=T0)
    view = service.view_request(db, vault, request.id, actor=STAFF)
    pending = [task for task, _ in view.tasks if task.status == "pending"]
    assert [task.name for task in pending] == ["newsletter tool"]
    workflow.task_done(db, vault, request.id, pending[0].id, "no data", actor=STAFF, now=T0)
    workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)

    assert request.status == "completed"
    view = service.view_request(db, vault, request.id, actor=STAFF)
    assert [(t.name, result) for t, result in view.tasks] == [
        ("shop database", "3 rows masked"),
        ("newsletter tool", "no data"),
    ]


def test_every_transition_is_an_event_and_an_audit_event(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)
    workflow.add_note(db, vault, request.id, "called the customer", actor=STAFF, now=T0)
    workflow.approve(db, vault, LINKS, request.id, actor=STAFF, now=T0)

    events = db.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    moves = [(e.from_status, e.to_status) for e in events if e.to_status]
    assert moves == [
        (None, "received"),
        ("received", "awaiting_verification"),
        ("awaiting_verification", "verified"),
        ("verified", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert audit_actions(db, request) == [
        "request.received",
        "request.verified",
        "request.verified",
        "request.note_added",
        "request.completed",
    ]
    note = next(e for e in events if e.action == "note")
    assert note.note_ciphertext is not None
    assert "customer" not in note.note_ciphertext
    view = service.view_request(db, vault, request.id, actor=STAFF)
    assert "called the customer" in [n for _, n in view.events]
    assert audit_actions(db, request)[-1] == "request.viewed"


def test_deny_needs_the_legal_basis_for_an_exemption(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)

    with pytest.raises(InvalidInput) as caught:
        workflow.deny(db, vault, LINKS, request.id, "exemption", "  ", actor=STAFF, now=T0)
    assert caught.value.problems[0].field == "detail"
    with pytest.raises(InvalidInput) as unknown:
        workflow.deny(db, vault, LINKS, request.id, "because", None, actor=STAFF, now=T0)
    assert unknown.value.problems[0].field == "reason"

    workflow.deny(
        db, vault, LINKS, request.id, "exemption", "Cal. Civ. Code 1798.145(a)", actor=STAFF, now=T0
    )
    assert request.status == "denied"
    assert request.denial_reason == "exemption"
    with pytest.raises(InvalidTransition, match="the request is denied"):
        workflow.deny(db, vault, LINKS, request.id, "duplicate", None, actor=STAFF, now=T0)
    with pytest.raises(InvalidTransition, match="the request is denied"):
        workflow.cancel(db, vault, request.id, actor=STAFF, now=T0)


def test_denial_in_california_has_no_appeal_text(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)

    workflow.deny(db, vault, LINKS, request.id, "no_data_found", None, actor=STAFF, now=T0)

    notice = messages(db, vault, request.id)[-1]
    assert notice.template == "dsr_denial"
    assert "We found no personal information" in notice.text
    assert "appeal" not in notice.text.lower()


def test_denial_in_virginia_explains_the_appeal(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy, state="VA")

    workflow.deny(
        db, vault, LINKS, request.id, "exemption", "Va. Code 59.1-578(A)", actor=STAFF, now=T0
    )

    notice = messages(db, vault, request.id)[-1]
    assert "within 60 days" in notice.text
    assert "January 26, 2027" in notice.text
    assert "Legal basis: Va. Code 59.1-578(A)" in notice.text
    assert notice.html is not None
    assert "Your right to appeal" in notice.html
    assert "Attorney General" not in notice.text


def test_appeal_within_the_window_and_its_denial_names_the_attorney_general(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    original = verified(db, vault, policy, state="VA")
    workflow.deny(db, vault, LINKS, original.id, "no_data_found", None, actor=STAFF, now=T0)

    appeal = submit(
        db,
        vault,
        policy,
        type="appeal",
        state="VA",
        appeal_of=original.id,
        at=T0 + timedelta(days=59),
    )
    assert appeal.appeal_of == original.id
    service.verify(
        db, vault, appeal.id, last_code(db, vault, appeal.id), now=T0 + timedelta(days=59)
    )
    assert appeal.status == "awaiting_review"
    workflow.deny(
        db,
        vault,
        LINKS,
        appeal.id,
        "other",
        "we hold no data",
        actor=STAFF,
        now=T0 + timedelta(days=60),
    )

    notice = messages(db, vault, appeal.id)[-1]
    assert "We have denied your appeal" in notice.text
    assert "Attorney General of Virginia" in notice.text
    assert "within 60 days" not in notice.text  # no appeal of an appeal


def test_appeal_rules(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    original = verified(db, vault, policy, state="VA")

    with pytest.raises(InvalidInput, match="not decided yet"):
        submit(db, vault, policy, type="appeal", state="VA", appeal_of=original.id)
    workflow.deny(db, vault, LINKS, original.id, "no_data_found", None, actor=STAFF, now=T0)
    with pytest.raises(InvalidInput, match="no decided request"):
        submit(
            db,
            vault,
            policy,
            type="appeal",
            state="VA",
            appeal_of=original.id,
            email="other@example.com",
        )
    with pytest.raises(InvalidInput, match="window"):
        submit(
            db,
            vault,
            policy,
            type="appeal",
            state="VA",
            appeal_of=original.id,
            at=T0 + timedelta(days=61),
        )
    submit(db, vault, policy, type="appeal", state="VA", appeal_of=original.id)
    with pytest.raises(InvalidInput, match="already appealed"):
        submit(db, vault, policy, type="appeal", state="VA", appeal_of=original.id)


def test_extension_once_with_a_reason_before_the_due_date(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)
    first_due = request.due_at

    with pytest.raises(InvalidInput) as caught:
        workflow.extend(db, vault, LINKS, request.id, " ", actor=STAFF, now=T0)
    assert caught.value.problems[0].field == "reason"

    workflow.extend(db, vault, LINKS, request.id, "Records are in archives.", actor=STAFF, now=T0)
    assert request.due_at == first_due
    assert request.extended_due_at == first_due + timedelta(days=45)
    notice = messages(db, vault, request.id)[-1]
    assert notice.template == "dsr_extension"
    assert "February 25, 2027" in notice.text
    assert "January 11, 2027" in notice.text
    assert "Records are in archives." in notice.text

    with pytest.raises(InvalidTransition, match="already extended"):
        workflow.extend(db, vault, LINKS, request.id, "again", actor=STAFF, now=T0)


def test_no_extension_after_the_first_due_date(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    request = verified(db, vault, policy)

    with pytest.raises(InvalidTransition, match="first due date has passed"):
        workflow.extend(
            db,
            vault,
            LINKS,
            request.id,
            "late",
            actor=STAFF,
            now=request.due_at + timedelta(seconds=1),
        )


def test_opt_outs_cannot_be_extended(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy, type="opt_out_sale")

    with pytest.raises(InvalidTransition, match="no extension"):
        workflow.extend(db, vault, LINKS, request.id, "busy", actor=STAFF, now=T0)


def test_cancel_and_notes(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(db, vault, policy)

    with pytest.raises(InvalidInput):
        workflow.add_note(db, vault, request.id, "", actor=STAFF, now=T0)
    workflow.cancel(db, vault, request.id, actor=STAFF, now=T0, note="asked by phone")

    assert request.status == "canceled"
    assert request.closed_at == T0
    with pytest.raises(InvalidTransition, match="canceled"):
        workflow.add_task(db, request.id, "shop", actor=STAFF, now=T0)
    workflow.add_note(db, vault, request.id, "closing remark", actor=STAFF, now=T0)
