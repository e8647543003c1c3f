"""Opt-outs passed on to the policy's advertising and marketing partners through their
connectors: due in 15 business days, retried after a failure, done once, audited. A partner
reached by mail gets one instruction per task and the task waits for its confirmation; a
partner reached by hand leaves the task to staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors.email import AckLinks, EmailProcessorConnector
from privacyops.connectors.port import ConnectorError
from privacyops.consent import ledger, propagation, propagation_staff
from privacyops.consent.ledger import Method
from privacyops.consent.purposes import EMAIL, SALE, TARGETED
from privacyops.dsr.service import manifest_of
from privacyops.models.connectors import ProcessorInstruction
from privacyops.models.consent import ConsentPropagation
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.connectors.http_service import ShopService
from tests.consent.propagation_support import (
    ANN,
    MANUAL_STEPS,
    PARTNER_MAIL,
    T0,
    ack_path,
    api_partner,
    connect_by_hand,
    connect_by_mail,
    events,
    opt_out,
    partner_mails,
    tasks,
)


@pytest.fixture
def links(settings: Settings) -> AckLinks:
    return AckLinks.from_settings(settings)


@pytest.fixture
def partner(db: Session, vault: Vault, policy: PolicyVersion) -> Iterator[ShopService]:
    with api_partner(db, vault, policy, "ad-partner") as service:
        yield service


def test_the_partners_are_those_that_buy_share_or_market(policy: PolicyVersion) -> None:
    found = propagation.partners(manifest_of(policy))

    assert {"marketing_advertising_partners", "third_party_advertising_companies"} <= found
    assert "tax_authorities" not in found
    assert "payment_provider" not in found


def test_an_opt_out_reaches_the_partner_once_and_is_audited(
    db: Session,
    vault: Vault,
    partner: ShopService,
    session_factory: sessionmaker[Session],
    links: AckLinks,
) -> None:
    ann = ledger.person_or_new(db, vault, "email", ANN, "email")
    ledger.record(db, ann, EMAIL, False, Method.api, actor="test", at=T0)  # not a partner matter
    ledger.record(
        db, ann, TARGETED, False, Method.preference_page, actor="consumer", at=T0, state="CA"
    )
    db.commit()

    found = tasks(db)
    assert sorted(t.kind for t in found) == ["sharing", "targeted_advertising"]
    # 15 business days from Tuesday 1 December 2026 (weekends skipped).
    assert {t.due_on for t in found} == {date(2026, 12, 22)}

    assert propagation.run_due(session_factory, vault, T0, links) == 2
    assert propagation.run_due(session_factory, vault, T0, links) == 0

    assert [o["kind"] for o in partner.opt_outs] == ["sharing", "targeted_advertising"]
    assert {o["email"] for o in partner.opt_outs} == {ANN}
    assert {t.status for t in tasks(db)} == {"done"}
    audited = events(db, "consent.propagated")
    assert len(audited) == 2
    assert {e.actor for e in audited} == {"system"}
    assert {e.details["status"] for e in audited} == {"done"}
    assert {e.subject for e in audited} == {vault.subject_hash(found[0].subject_id)}


def test_a_partner_that_is_down_is_retried_after_its_back_off(
    db: Session,
    vault: Vault,
    partner: ShopService,
    session_factory: sessionmaker[Session],
    links: AckLinks,
) -> None:
    opt_out(db, vault, state=None)
    partner.stop()

    assert propagation.run_due(session_factory, vault, T0, links) == 0
    failed = tasks(db)
    assert {(t.status, t.attempts) for t in failed} == {("failed", 1)}
    assert all("ad-partner" in (t.last_error or "") for t in failed)

    partner.start()
    assert propagation.run_due(session_factory, vault, T0 + timedelta(seconds=30), links) == 0
    assert propagation.run_due(session_factory, vault, T0 + timedelta(minutes=2), links) == 2
    assert len(partner.opt_outs) == 2


# -- a partner reached by mail ----------------------------------------------------------------


def test_a_partner_by_mail_gets_one_instruction_per_task_and_the_task_waits(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    links: AckLinks,
) -> None:
    connect_by_mail(db, vault, policy)
    made = opt_out(db, vault)

    assert propagation.run_due(session_factory, vault, T0, links) == 0
    for later in (T0, T0 + timedelta(minutes=5), T0 + timedelta(days=3)):
        assert propagation.run_due(session_factory, vault, later, links) == 0

    assert {t.status for t in tasks(db)} == {"awaiting_partner"}
    mails = partner_mails(db, vault)
    assert len(mails) == 2  # one per task, however often the job ran
    assert {m.to for m in mails} == {PARTNER_MAIL}
    by_task = {t.id: m for t, m in zip(made, mails, strict=True)}
    for task, mail in by_task.items():
        assert f"OPT-{task}" in mail.subject
        assert ANN not in mail.subject  # the subject is stored in clear with the queued mail
        assert ANN in mail.text
        assert "Please complete this by December 22, 2026" in mail.text
        assert "11 CCR 7026(f)" in mail.text
        assert "Suppress in every audience." in mail.text
        assert ack_path(mail).startswith("/processors/ack/")
    assert "Stop sharing this person's personal information" in mails[0].text
    assert "Stop using this person's personal information for targeted advertising" in (
        mails[1].text
    )
    rows = db.scalars(select(ProcessorInstruction).order_by(ProcessorInstruction.id)).all()
    assert [(r.propagation_id, r.request_id, r.operation) for r in rows] == [
        (made[0].id, None, "opt_out:sharing"),
        (made[1].id, None, "opt_out:targeted_advertising"),
    ]
    instructed = events(db, "processor.instructed")
    assert [e.details["propagation"] for e in instructed] == [made[0].id, made[1].id]
    assert {e.subject for e in instructed} == {vault.subject_hash(made[0].subject_id)}
    waiting = events(db, "consent.propagated")
    assert [(e.details["propagation"], e.details["status"]) for e in waiting] == [
        (made[0].id, "awaiting_partner"),
        (made[1].id, "awaiting_partner"),
    ]


def test_the_partners_confirmation_completes_the_task_and_nothing_is_mailed_again(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    links: AckLinks,
    client: TestClient,
) -> None:
    connect_by_mail(db, vault, policy)
    first, _second = opt_out(db, vault)
    propagation.run_due(session_factory, vault, T0, links)
    path = ack_path(partner_mails(db, vault)[0])

    opened = client.get(path)  # a mail scanner opening the link changes nothing
    assert opened.status_code == 200
    assert f"OPT-{first.id}" in opened.text
    assert "for an opt-out" in opened.text  # not a "privacy request" the person made
    assert "their request is done" not in opened.text
    assert ANN not in opened.text
    assert {t.status for t in tasks(db)} == {"awaiting_partner"}

    confirmed = client.post(path)

    assert confirmed.status_code == 200
    assert "Thank you" in confirmed.text
    # The confirmation queued the job (run at once in tests): the task is done.
    done, waiting = tasks(db)
    assert (done.status, waiting.status) == ("done", "awaiting_partner")
    assert done.done_at is not None
    closing = [e for e in events(db, "consent.propagated") if e.details["status"] == "done"]
    assert [(e.details["propagation"], e.details["step"], e.actor) for e in closing] == [
        (first.id, "confirmed_by_partner", "system")
    ]
    (acknowledged,) = events(db, "processor.acknowledged")
    assert acknowledged.subject == vault.subject_hash(first.subject_id)
    assert acknowledged.details["propagation"] == first.id

    assert propagation.run_due(session_factory, vault, T0 + timedelta(days=1), links) == 0
    assert len(partner_mails(db, vault)) == 2
    assert [t.status for t in tasks(db)] == ["done", "awaiting_partner"]
    assert client.post(path).status_code == 200  # a second press: already confirmed
    assert len(events(db, "processor.acknowledged")) == 1


def test_a_worker_killed_after_mailing_does_not_mail_again(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    links: AckLinks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect_by_mail(db, vault, policy)
    opt_out(db, vault, purpose=SALE)
    settle = propagation._settle

    def killed(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the worker was killed after the partner was mailed")

    monkeypatch.setattr(propagation, "_settle", killed)
    with pytest.raises(RuntimeError):
        propagation.run_due(session_factory, vault, T0, links)
    ((task,), (mail,)) = tasks(db), partner_mails(db, vault)
    assert task.status == "pending"  # the outcome was never recorded
    assert "Stop selling this person's personal information." in mail.text

    monkeypatch.setattr(propagation, "_settle", settle)
    propagation.run_due(session_factory, vault, T0 + timedelta(minutes=1), links)

    assert tasks(db)[0].status == "awaiting_partner"
    assert len(partner_mails(db, vault)) == 1
    assert len(events(db, "processor.instructed")) == 1


def test_an_email_instruction_is_for_one_request_or_one_task(
    vault: Vault, session_factory: sessionmaker[Session], links: AckLinks
) -> None:
    common: dict[str, Any] = {
        "identities": {"email": ANN},
        "session_factory": session_factory,
        "vault": vault,
        "links": links,
    }
    neither_or_both: list[dict[str, Any]] = [{}, {"request_id": "R-X", "propagation_id": 1}]
    for owners in neither_or_both:
        with pytest.raises(ConnectorError, match="one request or one opt-out task"):
            EmailProcessorConnector("ad-mail", PARTNER_MAIL, **owners, **common)


# -- a partner reached by hand ------------------------------------------------------------------


def test_a_manual_partner_is_left_to_staff_with_its_instructions(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    links: AckLinks,
) -> None:
    connect_by_hand(db, vault, policy)
    opt_out(db, vault)

    assert propagation.run_due(session_factory, vault, T0, links) == 0
    assert propagation.run_due(session_factory, vault, T0 + timedelta(hours=1), links) == 0

    found = tasks(db)
    assert {(t.status, t.attempts) for t in found} == {("manual", 0)}
    assert all(MANUAL_STEPS in (t.last_error or "") for t in found)
    assert all("ad-portal" in (t.last_error or "") for t in found)
    assert partner_mails(db, vault) == []
    # Picked once: a task waiting for a person is not asked again every minute.
    assert len(events(db, "consent.propagated")) == 2


def test_staff_closing_a_task_while_the_worker_runs_has_the_last_word(
    db: Session,
    vault: Vault,
    partner: ShopService,
    session_factory: sessionmaker[Session],
    links: AckLinks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opt_out(db, vault, purpose=SALE)
    partner.stop()
    propagation.run_due(session_factory, vault, T0, links)
    tell = propagation._tell

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        outcome = tell(*args, **kwargs)
        with session_factory() as other:
            propagation_staff.mark_done(
                other,
                vault,
                args[-1].id,
                "Phoned the partner.",
                actor="staff:7",
                now=T0,
                client=None,
            )
            other.commit()
        return outcome

    monkeypatch.setattr(propagation, "_tell", meanwhile)
    assert propagation.run_due(session_factory, vault, T0 + timedelta(hours=1), links) == 0

    (task,) = tasks(db)
    assert (task.status, task.attempts) == ("done", 1)
    assert [(e.actor, e.details["status"]) for e in events(db, "consent.propagated")] == [
        ("system", "failed"),
        ("staff:7", "done"),
    ]


# -- overdue ------------------------------------------------------------------------------------


def test_a_task_is_overdue_once_its_due_day_is_over_in_the_persons_state(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    links: AckLinks,
) -> None:
    connect_by_hand(db, vault, policy)
    opt_out(db, vault, email="ny@example.com", purpose=SALE, state="NY")
    opt_out(db, vault, email="ca@example.com", purpose=SALE, state="CA")
    opt_out(db, vault, email="none@example.com", purpose=SALE, state=None)
    propagation.run_due(session_factory, vault, T0, links)
    ny, ca, unknown = tasks(db)
    assert {t.due_on for t in (ny, ca, unknown)} == {date(2026, 12, 22)}

    def overdue(at: datetime) -> list[int]:
        listing = propagation_staff.list_tasks(db, at, overdue=True)
        return [row.task.id for row in listing.items]

    # 1 a.m. on the 23rd in New York is still the 22nd (10 p.m.) in California.
    assert overdue(datetime(2026, 12, 22, 23, tzinfo=UTC)) == []
    assert overdue(datetime(2026, 12, 23, 6, tzinfo=UTC)) == [ny.id]
    assert overdue(datetime(2026, 12, 23, 9, tzinfo=UTC)) == [ny.id, ca.id, unknown.id]
    assert propagation_staff.overdue_count(db, datetime(2026, 12, 23, 9, tzinfo=UTC)) == 3

    propagation_staff.mark_done(
        db, vault, ca.id, "Uploaded to the portal.", actor="staff:1", now=T0, client=None
    )
    db.commit()
    listing = propagation_staff.list_tasks(db, datetime(2027, 1, 5, tzinfo=UTC))
    assert {row.task.id: row.overdue for row in listing.items} == {
        ny.id: True,
        ca.id: False,  # done: never overdue
        unknown.id: True,
    }


def test_an_opt_out_without_a_partner_or_for_a_browser_makes_no_task(
    db: Session, vault: Vault, policy: PolicyVersion
) -> None:
    assert opt_out(db, vault) == []  # no partner connected
    connect_by_hand(db, vault, policy)
    ledger.record(
        db, ledger.Who(browser_id="b" * 32), TARGETED, False, Method.banner, actor="consumer"
    )
    db.commit()
    assert db.scalars(select(ConsentPropagation)).all() == []
