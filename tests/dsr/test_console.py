"""The console's request pages: the due list, a request's page and its actions, staff entry,
and the dashboard's counts, through the app with a logged-in session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.dsr import console, service, workflow
from privacyops.dsr.status import Channel
from privacyops.models.audit import AuditEvent
from privacyops.models.dsr import DataRequest
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.rights.rules import RequestType, decide
from privacyops.vault.service import Vault
from tests.audit.websupport import log_in_as
from tests.dsr.support import EMAIL, counts, last_code, messages, submit
from tests.htmltree import parse
from tests.staff.helpers import use_fast_hashing

NASTY = '<script>alert("x")</script>'
READERS = ("privacy_officer", "agent")
REFUSED = ("engineer", "auditor", "admin")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


def make(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    at: datetime,
    *,
    verify: bool = False,
    **overrides: object,
) -> DataRequest:
    """A request received at `at` (verified at that moment if asked), committed."""
    request = submit(db, vault, policy, at=at, **overrides)  # type: ignore[arg-type]
    if verify:
        service.verify(db, vault, request.id, last_code(db, vault, request.id), now=at)
    db.commit()
    return request


def post(client: TestClient, path: str, token: str, **data: str) -> Response:
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response


def audited(db: Session, action: str, request: DataRequest) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.target == f"request:{request.id}"
    )
    return list(db.scalars(query.order_by(AuditEvent.seq)))


def references(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/requests/(R-[0-9A-Z]+)">', html)


def refusal(html: str) -> str:
    match = re.search(r'<p class="form-error" role="alert">Not done: ([^<]*)', html)
    assert match is not None, "no refusal shown"
    return match.group(1).strip()


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_readers_open_the_list_the_request_and_the_entry_form(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime, role: str
) -> None:
    request = make(db, vault, policy, now)
    log_in_as(client, db, role)

    listed = client.get("/admin/requests")
    shown = client.get(f"/admin/requests/{request.id}")
    entry = client.get("/admin/requests/new")

    assert listed.status_code == shown.status_code == entry.status_code == 200
    assert request.id in listed.text
    assert 'aria-current="page">Requests</a>' in listed.text
    assert EMAIL in shown.text
    assert 'action="/admin/requests/new"' in entry.text


@pytest.mark.parametrize("role", REFUSED)
def test_other_roles_are_refused_every_request_page(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime, role: str
) -> None:
    request = make(db, vault, policy, now)
    token = log_in_as(client, db, role)

    pages = [
        client.get("/admin/requests"),
        client.get(f"/admin/requests/{request.id}"),
        client.get("/admin/requests/new"),
        post(client, f"/admin/requests/{request.id}/notes", token, note="hello"),
    ]

    assert [p.status_code for p in pages] == [403, 403, 403, 403]
    assert EMAIL not in "".join(p.text for p in pages)
    assert not audited(db, "request.viewed", request)
    assert ">Requests</a>" not in client.get("/admin").text


def test_the_agent_enters_reads_and_notes_but_does_not_decide(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True)
    token = log_in_as(client, db, "agent")

    page = client.get(f"/admin/requests/{request.id}")
    empty = post(client, f"/admin/requests/{request.id}/notes", token, note="  ")
    noted = post(client, f"/admin/requests/{request.id}/notes", token, note="called back")
    decisions = [
        post(client, f"/admin/requests/{request.id}/{action}", token, reason="duplicate")
        for action in ("approve", "deny", "extend", "cancel", "tasks")
    ]

    assert 'action="/admin/requests/' + request.id + '/notes"' in page.text
    for action in ("approve", "deny", "extend", "cancel"):
        assert f'/admin/requests/{request.id}/{action}"' not in page.text
    assert empty.status_code == 422
    assert 'id="note-note-error"' in empty.text
    assert noted.status_code == 303
    assert "called back" in client.get(noted.headers["location"]).text
    assert [d.status_code for d in decisions] == [403] * 5
    db.refresh(request)
    assert request.status == "in_progress"


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True)
    log_in_as(client, db, "privacy_officer")

    response = client.post(f"/admin/requests/{request.id}/approve", follow_redirects=False)

    assert response.status_code == 403
    db.refresh(request)
    assert request.status == "in_progress"


# --- the list ---------------------------------------------------------------------------------


def test_default_list_is_open_requests_soonest_due_first_without_identities(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    later = make(db, vault, policy, now - timedelta(days=1), phone="+1 415 555 0100")
    sooner = make(db, vault, policy, now - timedelta(days=10), state="VA")
    closed = make(db, vault, policy, now - timedelta(days=20))
    workflow.cancel(db, vault, closed.id, actor="staff:1", now=now)
    db.commit()
    log_in_as(client, db, "agent")

    page = client.get("/admin/requests")

    assert references(page.text) == [sooner.id, later.id]
    for personal in (EMAIL, "ann.requester", "415", "555"):
        assert personal not in page.text
    assert not audited(db, "request.viewed", later)
    row = parse(page.text).find("tbody").find_all("tr")[0].text()
    assert "Access to your information" in row
    assert "VA" in row
    assert "No" in row
    assert "awaiting_verification" in row


def test_filters_by_status_type_state(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    access = make(db, vault, policy, now)
    deletion = make(db, vault, policy, now - timedelta(hours=1), type="deletion", state="VA")
    closed = make(db, vault, policy, now - timedelta(hours=2))
    workflow.cancel(db, vault, closed.id, actor="staff:1", now=now)
    db.commit()
    log_in_as(client, db, "agent")

    def shown(query: str) -> set[str]:
        response = client.get(f"/admin/requests?{query}")
        assert response.status_code == 200, response.text
        return set(references(response.text))

    assert shown("type=deletion") == {deletion.id}
    assert shown("state=va") == {deletion.id}
    assert shown("status=closed") == {closed.id}
    assert shown("status=canceled") == {closed.id}
    assert shown("status=all") == {access.id, deletion.id, closed.id}
    assert shown("status=awaiting_verification&type=access") == {access.id}


def test_due_filters_and_overdue_rows_are_marked_in_words(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    # California: 45 calendar days from receipt.
    fresh = make(db, vault, policy, now)
    soon = make(db, vault, policy, now - timedelta(days=41))
    late = make(db, vault, policy, now - timedelta(days=50))
    log_in_as(client, db, "privacy_officer")

    def shown(query: str) -> list[str]:
        return references(client.get(f"/admin/requests?{query}").text)

    assert shown("due_within=7") == [soon.id]
    assert shown("overdue=1") == [late.id]
    assert shown("overdue=1&due_within=7") == [late.id, soon.id]
    assert shown("") == [late.id, soon.id, fresh.id]
    rows = parse(client.get("/admin/requests").text).find("tbody").find_all("tr")
    assert rows[0].attrs.get("class") == "overdue"
    assert re.search(r"Overdue by \d+ days", rows[0].text())
    assert rows[1].attrs.get("class") is None
    assert re.search(r"\b[3-6] days left", rows[1].text())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nope", "status"),
        ("type=nope", "type"),
        ("state=XX", "state"),
        ("due_within=0", "due_within"),
        ("due_within=abc", "due_within"),
        ("page=-1", "page"),
    ],
)
def test_bad_filters_are_named(
    client: TestClient, db: Session, policy: PolicyVersion, query: str, field: str
) -> None:
    log_in_as(client, db, "agent")

    response = client.get(f"/admin/requests?{query}")

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert "<tbody>" not in response.text


def test_pages_of_the_list(
    client: TestClient,
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console, "PAGE_SIZE", 2)
    made = [make(db, vault, policy, now - timedelta(days=d)) for d in (3, 2, 1)]
    log_in_as(client, db, "agent")

    first = client.get("/admin/requests?type=access")
    second = client.get("/admin/requests?type=access&page=2")

    assert references(first.text) == [made[0].id, made[1].id]
    assert 'href="/admin/requests?type=access&amp;page=2" rel="next"' in first.text
    assert references(second.text) == [made[2].id]
    assert "Page 2 of 2" in second.text


# --- one request ------------------------------------------------------------------------------


def test_the_request_page_shows_everything_and_records_the_view(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(
        db,
        vault,
        policy,
        now,
        type="correction",
        state="VA",
        phone="+1 415 555 0100",
        loyalty_id="LOY-123",
        details="My address changed.",
        corrections=[{"field": "mailing address", "value": "1 Main St"}],
    )
    token = log_in_as(client, db, "privacy_officer")
    post(client, f"/admin/requests/{request.id}/notes", token, note="Called the requester.")

    page = client.get(f"/admin/requests/{request.id}")

    assert page.status_code == 200
    text = parse(page.text).text()
    for shown in (
        EMAIL,
        "+14155550100",
        "LOY-123",
        "My address changed.",
        "mailing address",
        "1 Main St",
        "Virginia Consumer Data Protection Act",
        "Called the requester.",
        "Correction of your information",
        "Within 60 days of the decision",
        "request.received",
    ):
        assert shown in text, shown
    [viewed] = audited(db, "request.viewed", request)
    assert viewed.actor.startswith("staff:")


def test_an_unknown_request_is_a_404_page(client: TestClient, db: Session) -> None:
    log_in_as(client, db, "agent")

    for path in ("/admin/requests/R-NOPE000000", "/admin/requests/" + "x" * 40):
        response = client.get(path)
        assert response.status_code == 404
        assert "There is no request with this reference." in response.text


def test_approve_completes_and_the_requester_is_told(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True)
    token = log_in_as(client, db, "privacy_officer")

    done = post(client, f"/admin/requests/{request.id}/approve", token, note="all good")
    page = client.get(done.headers["location"])

    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/requests/{request.id}?done=approved"
    assert "completion notice" in parse(page.text).find("div", id="flash").text()
    db.refresh(request)
    assert request.status == "completed"
    assert messages(db, vault, request.id)[-1].template == "dsr_completion"
    assert 'action="/admin/requests/' + request.id + '/approve"' not in page.text


def test_approving_an_unverified_request_is_refused_with_409(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now)
    token = log_in_as(client, db, "privacy_officer")

    response = post(client, f"/admin/requests/{request.id}/approve", token)

    assert response.status_code == 409
    assert "not verified" in refusal(response.text)
    db.refresh(request)
    assert request.status == "awaiting_verification"


def test_deny_needs_the_legal_basis_of_an_exemption(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True, state="VA")
    token = log_in_as(client, db, "privacy_officer")
    path = f"/admin/requests/{request.id}/deny"

    no_reason = post(client, path, token, reason="", detail="")
    no_basis = post(client, path, token, reason="exemption", detail="  ")
    denied = post(client, path, token, reason="exemption", detail="Va. Code 59.1-582(A)(1)")

    assert no_reason.status_code == 422
    assert 'id="deny-reason-error"' in no_reason.text
    assert no_basis.status_code == 422
    assert 'id="deny-detail-error"' in no_basis.text
    assert '<option value="exemption" selected>' in no_basis.text
    assert denied.status_code == 303
    page = client.get(denied.headers["location"])
    assert "how to appeal" in page.text
    assert "Va. Code 59.1-582(A)(1)" in page.text
    db.refresh(request)
    assert (request.status, request.denial_reason) == ("denied", "exemption")
    assert messages(db, vault, request.id)[-1].template == "dsr_denial"


def test_extend_once_then_refused(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True)
    token = log_in_as(client, db, "privacy_officer")
    path = f"/admin/requests/{request.id}/extend"

    no_reason = post(client, path, token, reason="")
    extended = post(client, path, token, reason="Many datastores to search.")
    again = post(client, path, token, reason="Still searching.")

    assert no_reason.status_code == 422
    assert 'id="extend-reason-error"' in no_reason.text
    assert extended.status_code == 303
    page = client.get(extended.headers["location"])
    assert "The requester was told why." in page.text
    assert "Already extended once" in page.text
    assert again.status_code == 409
    assert "already extended" in refusal(again.text)
    db.refresh(request)
    assert request.extended_due_at is not None
    assert request.extension_reason == "Many datastores to search."


def test_no_extension_after_the_first_due_date(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now - timedelta(days=50), verify=True)
    token = log_in_as(client, db, "privacy_officer")

    page = client.get(f"/admin/requests/{request.id}")
    response = post(client, f"/admin/requests/{request.id}/extend", token, reason="late")

    assert "The first due date has passed" in page.text
    assert response.status_code == 409
    assert "first due date has passed" in refusal(response.text)


def test_cancel_then_every_decision_is_refused(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True)
    token = log_in_as(client, db, "privacy_officer")
    base = f"/admin/requests/{request.id}"

    canceled = post(client, f"{base}/cancel", token, reason="At the requester's wish.")
    again = post(client, f"{base}/cancel", token)
    approve = post(client, f"{base}/approve", token)
    task = post(client, f"{base}/tasks", token, name="crm")

    assert canceled.status_code == 303
    assert [again.status_code, approve.status_code, task.status_code] == [409, 409, 409]
    assert "the request is canceled" in refusal(again.text)
    page = client.get(base)
    assert "At the requester&#39;s wish." in page.text
    assert 'action="/admin/requests/' + request.id + '/deny"' not in page.text


def test_tasks_hold_completion_until_marked_done(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True, type="deletion")
    token = log_in_as(client, db, "privacy_officer")
    base = f"/admin/requests/{request.id}"

    empty = post(client, f"{base}/tasks", token, name=" ")
    added = post(client, f"{base}/tasks", token, name="loyalty database")
    started = post(client, f"{base}/approve", token)
    early = post(client, f"{base}/approve", token)
    page = client.get(base)
    [task_id] = re.findall(rf'action="{base}/tasks/(\d+)/done"', page.text)
    no_result = post(client, f"{base}/tasks/{task_id}/done", token, result="")
    marked = post(client, f"{base}/tasks/{task_id}/done", token, result="Deleted 3 rows.")
    twice = post(client, f"{base}/tasks/{task_id}/done", token, result="again")
    unknown = post(client, f"{base}/tasks/99999/done", token, result="x")
    completed = post(client, f"{base}/approve", token)

    assert empty.status_code == 422
    assert added.status_code == started.status_code == 303
    assert early.status_code == 409
    assert "tasks pending (loyalty database)" in refusal(early.text)
    assert no_result.status_code == 422
    assert f'id="task-{task_id}-result-error"' in no_result.text
    assert marked.status_code == 303
    assert twice.status_code == 409
    assert unknown.status_code == 404
    assert completed.status_code == 303
    final = client.get(base)
    assert "Deleted 3 rows." in final.text
    db.refresh(request)
    assert request.status == "completed"


def test_free_text_is_escaped(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    request = make(db, vault, policy, now, verify=True, details=NASTY)
    token = log_in_as(client, db, "privacy_officer")
    post(client, f"/admin/requests/{request.id}/notes", token, note=NASTY)
    post(client, f"/admin/requests/{request.id}/tasks", token, name=NASTY)
    refused = post(client, f"/admin/requests/{request.id}/extend", token, reason=NASTY + "x" * 6000)

    page = client.get(f"/admin/requests/{request.id}")

    assert "<script>" not in page.text
    assert page.text.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 3
    assert refused.status_code == 422  # longer than the form allows
    assert "<script>" not in refused.text


# --- staff entry ------------------------------------------------------------------------------


def entry(**overrides: str) -> dict[str, str]:
    data = {
        "channel": "postal_mail",
        "type": "access",
        "state": "CA",
        "email": EMAIL,
        "received_at": "",
        "entry_key": "",
    }
    data.update(overrides)
    return data


def test_staff_enter_a_letter_received_yesterday(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    token = log_in_as(client, db, "agent")
    form = client.get("/admin/requests/new").text
    key = re.search(r'name="entry_key" value="([^"]+)"', form)
    assert key is not None
    received = (now - timedelta(days=1)).replace(second=0)
    data = entry(
        received_at=received.strftime("%Y-%m-%dT%H:%M"),
        phone="415 555 0100",
        details="Letter of Nov 25.",
        entry_key=key.group(1),
    )

    response = post(client, "/admin/requests/new", token, **data)
    again = post(client, "/admin/requests/new", token, **data)

    assert response.status_code == again.status_code == 303
    assert response.headers["location"] == again.headers["location"]
    reference = response.headers["location"].split("/")[-1].split("?")[0]
    request = db.get(DataRequest, reference)
    assert request is not None
    assert request.channel == "postal_mail"
    assert request.received_at == received
    assert request.entered_by is not None
    assert request.entered_by.startswith("staff:")
    expected = decide(RequestType.access, "CA", received, service.manifest_of(policy))
    assert expected.deadline is not None
    assert request.due_at == expected.deadline.due_at
    page = client.get(response.headers["location"])
    assert "Entered the request received by Postal mail." in page.text
    assert "Letter of Nov 25." in page.text
    assert {m.template for m in messages(db, vault, reference)} == {
        "dsr_code",
        "dsr_code_sms",
        "dsr_receipt",
    }
    [received_event] = audited(db, "request.received", request)
    assert received_event.details["channel"] == "postal_mail"


def test_entry_defaults_to_now_and_takes_corrections(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    token = log_in_as(client, db, "privacy_officer")

    response = post(
        client,
        "/admin/requests/new",
        token,
        **entry(
            channel="phone",
            type="correction",
            corrections="mailing address = 1 Main St\nphone = 415 555 0100",
        ),
    )

    assert response.status_code == 303, response.text
    reference = response.headers["location"].split("/")[-1].split("?")[0]
    view = service.view_request(db, vault, reference, actor="test")
    assert view.request.channel == Channel.phone
    assert now <= view.request.received_at <= utcnow()
    assert view.corrections == [
        {"field": "mailing address", "value": "1 Main St"},
        {"field": "phone", "value": "415 555 0100"},
    ]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"channel": ""}, ["channel"]),
        ({"channel": "web"}, ["channel"]),
        ({"email": "nope", "state": "XX"}, ["email", "state"]),
        ({"received_at": "2999-01-01T10:00"}, ["received_at"]),
        ({"received_at": "yesterday"}, ["received_at"]),
        ({"received_at": "2020-01-01T10:00"}, ["received_at"]),
        ({"type": "correction", "corrections": "no equals sign"}, ["corrections"]),
        ({"type": "correction"}, ["corrections"]),
        ({"type": "correction", "state": "IA", "corrections": "name = Ann"}, ["type"]),
    ],
)
def test_entry_refusals_are_named_and_store_nothing(
    client: TestClient,
    db: Session,
    policy: PolicyVersion,
    overrides: dict[str, str],
    fields: list[str],
) -> None:
    token = log_in_as(client, db, "agent")
    before = counts(db)

    response = post(client, "/admin/requests/new", token, **entry(**overrides))

    assert response.status_code == 422
    for name in fields:
        assert f'id="{name}-error"' in response.text, name
    db.expire_all()
    assert counts(db) == before
    for name, value in overrides.items():
        if name in ("email", "corrections") and value:
            assert value in response.text  # kept for the correction


def test_entry_with_script_in_details_is_escaped(
    client: TestClient, db: Session, policy: PolicyVersion
) -> None:
    token = log_in_as(client, db, "agent")

    response = post(client, "/admin/requests/new", token, **entry(details=NASTY, email="x"))

    assert response.status_code == 422
    assert NASTY not in response.text
    assert "&lt;script&gt;" in response.text


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_counts_due_soon_and_overdue_for_request_roles(
    client: TestClient, db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    make(db, vault, policy, now - timedelta(days=41))
    make(db, vault, policy, now - timedelta(days=50))
    make(db, vault, policy, now - timedelta(days=55))
    make(db, vault, policy, now)
    log_in_as(client, db, "agent")

    page = parse(client.get("/admin").text)

    counts_ = [li.text() for li in page.find("ul", **{"class": "due-counts"}).find_all("li")]
    assert counts_ == ["Requests due within 7 days: 1", "Overdue: 2"]
    links = [a.attrs["href"] for a in page.find("ul", **{"class": "due-counts"}).find_all("a")]
    assert links == ["/admin/requests?due_within=7", "/admin/requests?overdue=1"]


def test_the_dashboard_has_no_counts_for_other_roles(client: TestClient, db: Session) -> None:
    log_in_as(client, db, "admin")

    page = client.get("/admin")

    assert page.status_code == 200
    assert "Overdue" not in page.text


def test_due_counts_ignore_closed_requests(
    db: Session, vault: Vault, policy: PolicyVersion, now: datetime
) -> None:
    late = make(db, vault, policy, now - timedelta(days=50))
    make(db, vault, policy, now - timedelta(days=60))
    workflow.cancel(db, vault, late.id, actor="staff:1", now=now)

    found = service.due_counts(db, now.astimezone(UTC))

    assert (found.due_soon, found.overdue) == (0, 1)
