"""Staff and opt-out propagation: the API (list with the overdue filter, retry a failed task,
close a task carried out by hand) and the console page with its buttons, the task's page with
whom it is about, the dashboard's count; who may do what, and the audit trail of each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors.email import AckLinks
from privacyops.consent import propagation
from privacyops.consent.purposes import SALE
from privacyops.models.consent import ConsentPropagation
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.audit.websupport import bearer, log_in_as
from tests.connectors.http_service import ShopService
from tests.consent.propagation_support import (
    ANN,
    MANUAL_STEPS,
    api_partner,
    connect_by_hand,
    events,
    opt_out,
    tasks,
)
from tests.htmltree import parse

API = "/api/v1/consent/propagations"
PAGE = "/admin/consent/propagations"
ALLOWED = ("privacy_officer", "engineer")
REFUSED = ("admin", "auditor")


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


@pytest.fixture
def run(session_factory: sessionmaker[Session], vault: Vault, settings: Settings) -> Any:
    def run_at(at: datetime) -> int:
        return propagation.run_due(session_factory, vault, at, AckLinks.from_settings(settings))

    return run_at


@pytest.fixture
def manual(
    db: Session, vault: Vault, policy: PolicyVersion, now: datetime, run: Any
) -> list[ConsentPropagation]:
    """Two tasks of a partner reached by hand: one from two months ago (overdue), one today."""
    connect_by_hand(db, vault, policy)
    opt_out(db, vault, email="old@example.com", purpose=SALE, at=now - timedelta(days=60))
    opt_out(db, vault, purpose=SALE, at=now)
    run(now)
    found = tasks(db)
    assert [t.status for t in found] == ["manual", "manual"]
    return found


@pytest.fixture
def down(db: Session, vault: Vault, policy: PolicyVersion) -> Iterator[ShopService]:
    """A partner with an API, down for now."""
    with api_partner(db, vault, policy, "ad-api", "marketing_advertising_partners") as service:
        service.stop()
        yield service


@pytest.fixture
def failed(
    db: Session, vault: Vault, down: ShopService, now: datetime, run: Any
) -> ConsentPropagation:
    opt_out(db, vault, email="bob@example.com", purpose=SALE, at=now)
    run(now)
    (task,) = [t for t in tasks(db) if t.datastore == "ad-api"]
    assert task.status == "failed"
    return task


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    found: dict[str, Any] = answer.json()
    return found


def fields(body: dict[str, Any]) -> set[str]:
    text = str(body)
    return {name for name in ("status", "note", "propagation_id") if name in text}


# -- the API ------------------------------------------------------------------------------------


def test_the_list_shows_each_task_without_naming_anyone(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    auth = bearer(db, "engineer")

    answer = client.get(API, headers=auth)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 2
    old, new = body["items"]
    assert (old["id"], new["id"]) == (manual[0].id, manual[1].id)  # soonest due first
    assert old["overdue"] is True
    assert new["overdue"] is False
    assert set(old) == {
        "id",
        "datastore",
        "recipient",
        "kind",
        "status",
        "due_on",
        "overdue",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "done_at",
    }
    assert (old["datastore"], old["kind"], old["status"]) == ("ad-portal", "sale", "manual")
    assert MANUAL_STEPS in old["last_error"]
    assert ANN not in answer.text
    assert "old@example.com" not in answer.text


def test_the_list_filters_by_status_and_overdue(
    client: TestClient, db: Session, manual: list[ConsentPropagation], failed: ConsentPropagation
) -> None:
    auth = bearer(db, "privacy_officer")

    def ids(**params: str) -> list[int]:
        answer = client.get(API, params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    # Bob's opt-out reached the partner by hand too: a third manual task.
    by_hand = [t.id for t in tasks(db) if t.status == "manual"]
    assert len(by_hand) == 3
    assert ids(status="failed") == [failed.id]
    assert ids(status="manual") == by_hand
    assert ids(overdue="true") == [manual[0].id]
    assert ids(status="failed", overdue="true") == []
    assert ids(status="done") == []
    assert sorted(ids(status="open")) == sorted([*by_hand, failed.id])
    assert sorted(ids()) == sorted([*by_hand, failed.id])
    bad = problem(client.get(API, params={"status": "lost"}, headers=auth), 422)
    assert "status" in fields(bad)


def test_a_failed_task_is_retried_at_once(
    client: TestClient, db: Session, vault: Vault, failed: ConsentPropagation, down: ShopService
) -> None:
    auth = bearer(db, "engineer")
    down.start()

    answer = client.post(f"{API}/{failed.id}/retry", headers=auth)

    assert answer.status_code == 200, answer.text
    (task,) = [t for t in tasks(db) if t.id == failed.id]
    assert task.status == "done"  # the job ran once the retry was committed
    assert [o["kind"] for o in down.opt_outs] == ["sale"]
    trail = [
        (e.actor.split(":")[0], e.details["status"], e.details.get("step"))
        for e in events(db, "consent.propagated")
        if e.details["propagation"] == failed.id
    ]
    assert trail == [
        ("system", "failed", None),
        ("token", "failed", "retry_requested"),
        ("system", "done", None),
    ]


def test_retry_refuses_unknown_tasks_and_tasks_that_did_not_fail(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    auth = bearer(db, "engineer")

    conflict = problem(client.post(f"{API}/{manual[0].id}/retry", headers=auth), 409)
    unknown = problem(client.post(f"{API}/987654/retry", headers=auth), 404)
    bad = problem(client.post(f"{API}/0/retry", headers=auth), 422)

    assert "manual" in conflict["detail"]
    assert "987654" in unknown["detail"]
    assert "propagation_id" in fields(bad)
    assert {t.status for t in tasks(db)} == {"manual"}


def test_staff_close_a_manual_task_with_a_note_kept_encrypted(
    client: TestClient, db: Session, vault: Vault, manual: list[ConsentPropagation]
) -> None:
    auth = bearer(db, "privacy_officer")
    note = f"Uploaded {ANN} to the partner's portal."

    answer = client.post(f"{API}/{manual[1].id}/done", json={"note": note}, headers=auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "done"
    assert ANN not in answer.text
    task = tasks(db)[1]
    assert (task.status, task.next_attempt_at) == ("done", None)
    assert task.done_at is not None
    assert task.note_ciphertext is not None
    assert ANN not in task.note_ciphertext
    (closed,) = [e for e in events(db, "consent.propagated") if e.details.get("step")]
    assert closed.actor.startswith("token:")
    assert closed.details == {
        "propagation": task.id,
        "kind": "sale",
        "status": "done",
        "record": task.record_id,
        "step": "done_by_staff",
    }
    assert closed.subject == vault.subject_hash(task.subject_id)
    again = problem(client.post(f"{API}/{task.id}/done", json={"note": "x"}, headers=auth), 409)
    assert "done" in again["detail"]


def test_closing_needs_a_note_and_a_known_task(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    auth = bearer(db, "engineer")
    path = f"{API}/{manual[0].id}/done"

    blank = problem(client.post(path, json={"note": "   "}, headers=auth), 422)
    missing = problem(client.post(path, json={}, headers=auth), 422)
    extra = problem(client.post(path, json={"note": "ok", "by": "me"}, headers=auth), 422)
    unknown = problem(client.post(f"{API}/987654/done", json={"note": "ok"}, headers=auth), 404)

    assert "note" in fields(blank)
    assert "note" in fields(missing)
    assert "by" in str(extra)
    assert unknown["status"] == 404
    assert {t.status for t in tasks(db)} == {"manual"}


@pytest.mark.parametrize("role", REFUSED)
def test_roles_without_the_consent_permissions_are_refused(
    client: TestClient, db: Session, manual: list[ConsentPropagation], role: str
) -> None:
    auth = bearer(db, role)
    task = manual[0].id

    answers = [
        client.get(API, headers=auth),
        client.post(f"{API}/{task}/retry", headers=auth),
        client.post(f"{API}/{task}/done", json={"note": "done"}, headers=auth),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert client.get(API).status_code == 401
    assert {t.status for t in tasks(db)} == {"manual"}


# -- the console --------------------------------------------------------------------------------


def rows(html: str) -> dict[int, str]:
    """Task id -> the row's class attribute ("" when none)."""
    table = parse(html)
    found = {}
    for row in table.find_all("tr"):
        ident = row.attrs.get("id") or ""
        if ident.startswith("task-"):
            found[int(ident.removeprefix("task-"))] = row.attrs.get("class") or ""
    return found


@pytest.mark.parametrize("role", ALLOWED)
def test_the_page_lists_open_tasks_with_the_overdue_in_red(
    client: TestClient, db: Session, manual: list[ConsentPropagation], role: str
) -> None:
    log_in_as(client, db, role)

    page = client.get(PAGE)

    assert page.status_code == 200, page.text
    assert rows(page.text) == {manual[0].id: "overdue", manual[1].id: ""}
    assert page.text.count('class="overdue-mark">Overdue') == 1
    assert f'href="{PAGE}"' in page.text  # the console's navigation names the page
    assert ANN not in page.text
    assert f'action="{PAGE}/{manual[0].id}/done"' in page.text
    assert 'name="csrf_token"' in page.text
    only_overdue = client.get(PAGE, params={"overdue": "1"})
    assert list(rows(only_overdue.text)) == [manual[0].id]
    none_done = client.get(PAGE, params={"status": "done"})
    assert "No tasks match." in none_done.text


def test_a_bad_filter_is_named(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    log_in_as(client, db, "privacy_officer")

    answers = [client.get(PAGE, params={"status": "lost"}), client.get(PAGE, params={"page": "x"})]

    assert [a.status_code for a in answers] == [422, 422]
    assert 'id="status-error"' in answers[0].text
    assert "Nothing was listed" in answers[1].text


def test_the_console_retries_a_failed_task(
    client: TestClient, db: Session, failed: ConsentPropagation, down: ShopService
) -> None:
    csrf = log_in_as(client, db, "engineer")
    page = client.get(PAGE, params={"status": "failed"})
    assert f'action="{PAGE}/{failed.id}/retry"' in page.text
    down.start()

    forged = client.post(f"{PAGE}/{failed.id}/retry", follow_redirects=False)
    assert forged.status_code == 403
    assert tasks(db)[-1].status == "failed"

    done = client.post(
        f"{PAGE}/{failed.id}/retry", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?done=retried"
    assert tasks(db)[-1].status == "done"
    assert "being tried again" in client.get(done.headers["location"]).text
    (asked,) = [e for e in events(db, "consent.propagated") if e.details.get("step")]
    assert asked.actor.startswith("staff:")


def test_the_console_marks_a_manual_task_done_with_a_note(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    csrf = log_in_as(client, db, "privacy_officer")
    path = f"{PAGE}/{manual[0].id}/done"

    blank = client.post(path, data={"csrf_token": csrf, "note": ""}, follow_redirects=False)
    assert blank.status_code == 422
    assert "Not done: Task" in blank.text
    done = client.post(
        path, data={"csrf_token": csrf, "note": "Uploaded it."}, follow_redirects=False
    )
    again = client.post(path, data={"csrf_token": csrf, "note": "Again."}, follow_redirects=False)
    unknown = client.post(
        f"{PAGE}/987654/done", data={"csrf_token": csrf, "note": "x"}, follow_redirects=False
    )

    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?done=closed"
    assert [t.status for t in tasks(db)] == ["done", "manual"]
    assert again.status_code == 409
    assert re.search(r"Not done: Task \d+: The task is done; only awaiting_partner", again.text)
    assert unknown.status_code == 404
    (closed,) = [e for e in events(db, "consent.propagated") if e.details.get("step")]
    assert (closed.actor.split(":")[0], closed.details["step"]) == ("staff", "done_by_staff")
    # The list no longer offers to close it, and shows it among the done.
    listed = client.get(PAGE, params={"status": "done"})
    assert list(rows(listed.text)) == [manual[0].id]
    assert f'action="{path}"' not in listed.text


def test_the_task_page_names_the_person_and_records_the_view(
    client: TestClient, db: Session, vault: Vault, manual: list[ConsentPropagation]
) -> None:
    csrf = log_in_as(client, db, "engineer")
    task = manual[1]
    client.post(
        f"{PAGE}/{task.id}/done",
        data={"csrf_token": csrf, "note": "Uploaded the <b>address</b>."},
        follow_redirects=False,
    )

    page = client.get(f"{PAGE}/{task.id}")

    assert page.status_code == 200, page.text
    assert ANN in page.text
    assert MANUAL_STEPS.replace("'", "&#39;") in page.text
    assert "Uploaded the &lt;b&gt;address&lt;/b&gt;." in page.text
    (viewed,) = events(db, "subject.viewed")
    assert viewed.target == f"consent_propagation:{task.id}"
    assert viewed.subject == vault.subject_hash(task.subject_id)
    assert viewed.actor.startswith("staff:")
    assert client.get(f"{PAGE}/987654").status_code == 404
    assert client.get(f"{PAGE}/x").status_code == 404


@pytest.mark.parametrize("role", REFUSED)
def test_other_roles_are_refused_every_page(
    client: TestClient, db: Session, manual: list[ConsentPropagation], role: str
) -> None:
    csrf = log_in_as(client, db, role)
    task = manual[0].id

    answers = [
        client.get(PAGE),
        client.get(f"{PAGE}/{task}"),
        client.post(f"{PAGE}/{task}/retry", data={"csrf_token": csrf}),
        client.post(f"{PAGE}/{task}/done", data={"csrf_token": csrf, "note": "x"}),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert events(db, "subject.viewed") == []
    assert {t.status for t in tasks(db)} == {"manual"}
    assert f'href="{PAGE}"' not in client.get("/admin").text


def test_the_dashboard_counts_overdue_tasks_for_consent_roles(
    client: TestClient, db: Session, manual: list[ConsentPropagation]
) -> None:
    log_in_as(client, db, "engineer")

    page = client.get("/admin")

    assert page.status_code == 200
    assert re.search(r"Opt-outs to partners overdue: <strong>1</strong>", page.text)
    assert f'href="{PAGE}?overdue=1"' in page.text
