"""The console's audit log browser: filters, pages, escaping, errors, roles, export, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privacyops import runtime
from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.identity.service import get_or_create_subject
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.audit.websupport import (
    NASTY,
    OTHER_SUBJECT,
    SUBJECT,
    events_of,
    log_in_as,
    seed,
    shown_seqs,
    tamper,
)
from tests.htmltree import parse
from tests.staff.helpers import use_fast_hashing
from tests.vault.support import make_vault


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)


@pytest.fixture
def csrf(client: TestClient, db: Session) -> str:
    return log_in_as(client, db, "auditor")


@pytest.fixture
def seqs(db: Session, csrf: str) -> list[int]:
    return seed(db)


def shown(client: TestClient, query: str) -> list[int]:
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200, response.text
    return shown_seqs(response.text)


def test_the_log_lists_events_newest_first_with_every_column(
    client: TestClient, seqs: list[int]
) -> None:
    response = client.get("/admin/audit")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    listed = shown_seqs(response.text)
    assert listed == sorted(listed, reverse=True)
    assert set(seqs) <= set(listed)
    page = parse(response.text)
    headers = [th.text() for th in page.find("table").find("thead").find_all("th")]
    assert headers == [
        "#",
        "Time (UTC)",
        "Actor",
        "Action",
        "Subject",
        "Target",
        "Client",
        "Details",
    ]
    row = next(tr for tr in page.find("tbody").find_all("tr") if tr.text().startswith(str(seqs[3])))
    cells = [td.text() for td in row.find_all("td")]
    assert cells[1:7] == [
        "2026-01-11 23:59:59",
        "staff:902",
        "subject.viewed",
        f"{SUBJECT[:12]}…",
        "subject:9",
        "",
    ]
    subject_link = row.find_all("td")[4].find("a")
    assert subject_link.attrs["href"] == f"/admin/audit?subject={SUBJECT}"
    assert subject_link.attrs["title"] == SUBJECT
    assert 'aria-current="page">Audit log</a>' in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=staff:901", [4, 2, 1]),
        ("action=staff.login", [1]),
        ("action=staff.*&date_to=2026-01-31", [4, 2, 1, 0]),
        ("action=subject.*", [5, 3]),
        (f"subject={SUBJECT}", [3]),
        (f"subject={OTHER_SUBJECT.upper()}", [5]),
        ("target=staff:902", [2]),
        ("date_from=2026-01-11&date_to=2026-01-12", [4, 3, 2]),
        ("date_from=2026-01-14&date_to=2026-01-14", [6]),
        ("actor=staff:901&action=staff.*&date_from=2026-01-11", [4, 2]),
        ("actor=nobody", []),
        ("actor=+cli+&date_to=2026-01-31", [6, 0]),
    ],
)
def test_filters(client: TestClient, seqs: list[int], query: str, expected: list[int]) -> None:
    assert shown(client, query) == [seqs[i] for i in expected]


def test_the_action_select_keeps_the_chosen_action(client: TestClient, seqs: list[int]) -> None:
    page = parse(client.get("/admin/audit?action=staff.*").text)
    options = page.find("select", id="action").find_all("option")
    selected = [o.attrs["value"] for o in options if "selected" in o.attrs]
    assert selected == ["staff.*"]
    values = {o.attrs["value"] for o in options}
    assert {"", "staff.*", "staff.created", "audit.*", "audit.viewed"} <= values
    # A well-formed action the code no longer knows can still be searched (old events keep it).
    retired = parse(client.get("/admin/audit?action=request.retired").text)
    kept = [
        o for o in retired.find("select", id="action").find_all("option") if "selected" in o.attrs
    ]
    assert [o.attrs["value"] for o in kept] == ["request.retired"]


def test_pages_of_fifty_keep_the_filters(client: TestClient, db: Session, csrf: str) -> None:
    bulk = [record(db, AuditAction.staff_listed, actor="bulk").seq for _ in range(120)]
    db.commit()
    newest_first = bulk[::-1]

    first = client.get("/admin/audit?actor=bulk")
    assert shown_seqs(first.text) == newest_first[:50]
    assert "Events 1–50 of 120." in first.text
    tree = parse(first.text)
    older = tree.find("a", rel="next").attrs["href"]
    assert parse_qs(urlsplit(older).query) == {"actor": ["bulk"], "page": ["2"]}
    assert "Page 1 of 3" in first.text

    third = client.get("/admin/audit?actor=bulk&page=3")
    assert shown_seqs(third.text) == newest_first[100:]
    assert "Events 101–120 of 120." in third.text
    assert not parse(third.text).find_all("a", rel="next")
    newer = parse(third.text).find("a", rel="prev").attrs["href"]
    assert shown_seqs(client.get(newer).text) == newest_first[50:100]

    beyond = client.get("/admin/audit?actor=bulk&page=9")
    assert beyond.status_code == 200
    assert shown_seqs(beyond.text) == []
    assert "No events on page 9; there are 3 pages." in beyond.text


def test_details_are_escaped_key_value_pairs(client: TestClient, seqs: list[int]) -> None:
    response = client.get("/admin/audit?actor=staff:901&action=staff.logout")

    assert NASTY not in response.text
    assert "note=&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    published = client.get("/admin/audit?target=policy:2").text
    assert "<code>version=2</code>" in published


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2026-13-01", "date_from", "not a date (expected YYYY-MM-DD)"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to", "must be on or after date_from"),
        ("subject=abc123", "subject", "paste the subject&#39;s full hash"),
        ("action=DROP+TABLE", "action", "not an action name"),
        (f"actor={'x' * 201}", "actor", "at most 200 characters"),
        ("page=0", "page", "must be a whole number from 1"),
        ("page=two", "page", "must be a whole number from 1"),
    ],
)
def test_a_bad_filter_is_a_422_page_naming_the_field(
    client: TestClient, db: Session, seqs: list[int], query: str, field: str, message: str
) -> None:
    response = client.get(f"/admin/audit?{query}")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert shown_seqs(response.text) == []
    assert not events_of(db, "audit.viewed")


def test_several_bad_fields_are_reported_together(client: TestClient, csrf: str) -> None:
    response = client.get("/admin/audit?date_from=x&date_to=y&subject=z")

    assert response.status_code == 422
    for field in ("date_from", "date_to", "subject"):
        assert f'id="{field}-error"' in response.text
    # The typed values come back in the form, escaped.
    assert 'name="subject" type="text" value="z"' in response.text


def test_each_page_view_is_recorded_without_personal_data(
    client: TestClient, db: Session, seqs: list[int]
) -> None:
    client.get(f"/admin/audit?action=subject.*&subject={SUBJECT}&page=1")

    [viewed] = events_of(db, "audit.viewed")
    assert viewed.actor.startswith("staff:")
    assert viewed.subject == SUBJECT
    assert viewed.details == {
        "action": "subject.*",
        "subject": SUBJECT,
        "offset": 0,
        "shown": 1,
        "via": "console",
    }
    assert "auditor@example.com" not in json.dumps(viewed.details)
    client.get("/admin/audit?page=2")
    assert len(events_of(db, "audit.viewed")) == 2


@pytest.mark.parametrize("role", ["agent", "engineer", "privacy_officer"])
def test_roles_without_the_permission_are_refused(
    client: TestClient, db: Session, role: str
) -> None:
    csrf = log_in_as(client, db, role)

    for response in (
        client.get("/admin/audit"),
        client.get("/admin/audit/export"),
        client.post("/admin/audit/verify", data={"csrf_token": csrf}),
        client.post("/admin/audit/subject", data={"csrf_token": csrf, "identity": "a@b.co"}),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
    assert len(events_of(db, "access.denied")) == 4
    assert not events_of(db, "audit.viewed")


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admins_and_auditors_may_read_and_export(
    client: TestClient, db: Session, role: str
) -> None:
    log_in_as(client, db, role)

    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert 'href="/admin/audit/export"' in page.text
    assert client.get("/admin/audit/export").status_code == 200


def test_not_logged_in_goes_to_the_login_page(client: TestClient) -> None:
    response = client.get("/admin/audit?actor=cli", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/audit%3Factor%3Dcli"


def test_export_downloads_the_same_events_and_is_recorded_first(
    client: TestClient, db: Session, seqs: list[int]
) -> None:
    query = "action=staff.*&date_to=2026-01-31"
    page = client.get(f"/admin/audit?{query}")
    export_href = parse(page.text).find("a", **{"class": "audit-export"}).attrs["href"]
    assert parse_qs(urlsplit(export_href).query) == {
        "action": ["staff.*"],
        "date_to": ["2026-01-31"],
    }

    response = client.get(export_href)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=audit-{utcnow():%Y%m%d}.jsonl"
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["seq"] for line in lines] == [seqs[i] for i in (0, 1, 2, 4)]
    assert lines[3]["details"] == {"note": NASTY}
    assert lines[0]["at"] == "2026-01-10T23:59:59.000000Z"
    assert set(lines[0]) == {
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "target",
        "client",
        "details",
        "prev_hash",
        "hash",
    }
    [exported] = events_of(db, "audit.exported")
    assert exported.details == {
        "action": "staff.*",
        "date_to": "2026-01-31",
        "events": 4,
        "to": "download",
    }
    # The export covers the log up to its own record, which is left for the next one.
    assert exported.seq > max(line["seq"] for line in lines)


def test_export_with_a_bad_filter_is_a_422_page(client: TestClient, db: Session, csrf: str) -> None:
    response = client.get("/admin/audit/export?date_to=31/01/2026")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="date_to-error"' in response.text
    assert not events_of(db, "audit.exported")


@pytest.fixture
def chain(db: Session, csrf: str) -> list[int]:
    """Five events as recorded (`seed` backdates rows, which the chain rightly calls edits)."""
    found = [record(db, AuditAction.staff_login, actor=f"staff:{n}").seq for n in range(5)]
    db.commit()
    return found


def test_verify_reports_an_intact_chain_and_records_it(
    client: TestClient, db: Session, csrf: str, chain: list[int]
) -> None:
    response = client.post("/admin/audit/verify", data={"csrf_token": csrf})

    assert response.status_code == 200
    assert "Intact." in response.text
    [verified] = events_of(db, "audit.verified")
    assert verified.details == {"events": verified.seq - 1}


def test_verify_names_the_first_broken_event_and_records_nothing(
    client: TestClient, db: Session, csrf: str, chain: list[int]
) -> None:
    tamper(db, chain[2])

    response = client.post("/admin/audit/verify", data={"csrf_token": csrf})

    assert response.status_code == 200
    assert f"Broken at event {chain[2]}." in response.text
    assert f"event {chain[2]} was edited" in response.text
    assert f"{chain[2] - 1} events before it are intact." in response.text
    assert not events_of(db, "audit.verified")


def test_verify_needs_the_csrf_token(client: TestClient, db: Session, csrf: str) -> None:
    response = client.post("/admin/audit/verify", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert not events_of(db, "audit.verified")


def test_the_verify_form_carries_the_csrf_token(client: TestClient, csrf: str) -> None:
    form = parse(client.get("/admin/audit").text).find("form", **{"class": "audit-verify"})
    assert form.attrs["method"] == "post"
    assert form.find("input", name="csrf_token").attrs["value"] == csrf


# --- find by email or phone -------------------------------------------------------------------


@pytest.fixture
def vault(app: FastAPI, settings: Settings) -> Iterator[Vault]:
    with make_vault(settings) as instance:
        app.state.vault = instance
        yield instance


def test_without_a_vault_the_lookup_says_it_is_unavailable(
    client: TestClient, csrf: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a server whose key ring was never configured.
    monkeypatch.setattr(runtime, "open_vault", Vault.from_settings)
    page = parse(client.get("/admin/audit").text)
    assert "disabled" in page.find("input", id="identity").attrs
    assert "the vault is not configured" in page.find("span", id="identity-hint").text()

    response = client.post(
        "/admin/audit/subject", data={"csrf_token": csrf, "identity": "ann@example.com"}
    )
    assert response.status_code == 503
    assert "unavailable: the vault is not configured on this server" in response.text


def test_an_email_becomes_the_subject_hash_and_never_reaches_the_url(
    client: TestClient, db: Session, csrf: str, vault: Vault
) -> None:
    subject, _created = get_or_create_subject(db, vault, {"email": "ann@example.com"})
    hashed = vault.subject_hash(subject.id)
    mine = record(db, AuditAction.subject_viewed, actor="staff:7", subject=hashed).seq
    record(db, AuditAction.subject_viewed, actor="staff:7", subject=OTHER_SUBJECT)
    db.commit()

    response = client.post(
        "/admin/audit/subject",
        data={"csrf_token": csrf, "identity": " Ann@Example.COM ", "actor": "staff:7"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query) == {"actor": ["staff:7"], "subject": [hashed]}
    assert "ann" not in location.lower()
    assert shown_seqs(client.get(location).text) == [mine]


def test_a_phone_number_is_looked_up_too(
    client: TestClient, db: Session, csrf: str, vault: Vault
) -> None:
    subject, _created = get_or_create_subject(db, vault, {"phone": "(212) 555-0123"})
    db.commit()

    response = client.post(
        "/admin/audit/subject",
        data={"csrf_token": csrf, "identity": "212.555.0123"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/audit?subject={vault.subject_hash(subject.id)}"


def test_an_unknown_identity_is_a_404_recorded_without_the_value(
    client: TestClient, db: Session, csrf: str, vault: Vault
) -> None:
    response = client.post(
        "/admin/audit/subject", data={"csrf_token": csrf, "identity": "nobody@example.com"}
    )

    assert response.status_code == 404
    assert "no data subject has this email address" in response.text
    [viewed] = events_of(db, "audit.viewed")
    assert viewed.details == {"lookup": "email", "found": False}
    assert "nobody" not in json.dumps(viewed.details)


@pytest.mark.parametrize(
    ("identity", "message"),
    [("", "enter an email address or a phone number"), ("12", "not a US phone number")],
)
def test_a_malformed_identity_is_a_422(
    client: TestClient, csrf: str, vault: Vault, identity: str, message: str
) -> None:
    response = client.post("/admin/audit/subject", data={"csrf_token": csrf, "identity": identity})

    assert response.status_code == 422
    assert 'id="identity-error"' in response.text
    assert message in response.text


def test_the_lookup_needs_the_csrf_token(client: TestClient, csrf: str, vault: Vault) -> None:
    response = client.post(
        "/admin/audit/subject", data={"identity": "ann@example.com"}, follow_redirects=False
    )
    assert response.status_code == 403
