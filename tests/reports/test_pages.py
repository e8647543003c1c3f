"""The reports console page, its CSV download and its JSON twin."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privacyops.models.audit import AuditEvent
from privacyops.reports import pages
from tests.audit.websupport import bearer, log_in_as
from tests.reports.support import add_request, add_year_2025, at
from tests.staff.helpers import use_fast_hashing

EXPECTED_CSV = (
    "# CCPA 11 CCR 7102 metrics; calendar year 2025; scope: all individuals (not only California"
    " consumers)\r\n"
    "kind,request,received,complied_in_whole_or_in_part,denied,denied_not_verifiable,"
    "denied_not_made_by_consumer,denied_exempt,denied_other_grounds,median_days_to_respond,"
    "mean_days_to_respond\r\n"
    "delete,Requests to delete,6,2,2,1,0,1,0,15.0,19.5\r\n"
    "correct,Requests to correct,0,0,0,0,0,0,0,,\r\n"
    "know,Requests to know,3,2,1,0,1,0,0,2.0,2.7\r\n"
    "opt_out,Requests to opt out of sale/sharing,3,3,0,0,0,0,0,2.0,2.3\r\n"
    "limit,Requests to limit,1,0,1,0,0,0,1,0.0,0.0\r\n"
)


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_hashing(monkeypatch)
    monkeypatch.setattr(pages, "_today", lambda: date(2026, 6, 1))


def audit_count(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_the_page_shows_the_table_and_the_chart(client: TestClient, db: Session) -> None:
    add_year_2025(db)
    log_in_as(client, db, "auditor")

    response = client.get("/admin/reports/ccpa-7102?year=2025&scope=all")

    assert response.status_code == 200
    html = response.text
    assert '<h2 id="report-heading">Calendar year 2025</h2>' in html
    assert "<strong>Scope:</strong> all individuals (not only California consumers)." in html
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", html, re.S)
    cells = {label: re.findall(r"<td class=\"num-col\">(.*?)</td>", rest) for label, rest in rows}
    assert cells["Requests to delete"] == ["6", "2", "2", "1", "0", "1", "0", "15.0", "19.5"]
    assert cells["Requests to know"] == ["3", "2", "1", "0", "1", "0", "0", "2.0", "2.7"]
    assert cells["Requests to correct"][:7] == ["0"] * 7
    # The chart: inline SVG, a title and a description, three bars per kind.
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in html
    assert 'aria-labelledby="chart-title chart-desc"' in html
    assert (
        '<title id="chart-title">Requests received, complied with and denied in 2025, by kind'
        "</title>"
    ) in svg.group(1)
    assert "Requests to delete: 6 received, 2 complied with in whole or in part, 2 denied; " \
        "median 15.0 days, mean 19.5 days to respond." in svg.group(1)  # fmt: skip
    bars = re.findall(r'<rect class="chart-bar chart-bar-(\w+)"[^>]*height="([\d.]+)"', html)
    assert len(bars) == 15
    assert [kind for kind, _ in bars[:3]] == ["received", "complied", "denied"]
    heights = [float(h) for _, h in bars]
    assert heights[0] == max(heights)  # 6 deletions received: the tallest bar
    assert heights[3:6] == [0.0, 0.0, 0.0]  # no correction requests
    assert "median 15.0 days</text>" in html
    assert "mean 19.5 days</text>" in html
    assert "style=" not in svg.group(0)  # the CSP allows no inline style
    assert 'href="/admin/reports/ccpa-7102.csv?year=2025&amp;scope=all"' in html


def test_reports_home_opens_on_the_previous_year(client: TestClient, db: Session) -> None:
    add_year_2025(db)
    log_in_as(client, db, "privacy_officer")

    response = client.get("/admin/reports")

    assert response.status_code == 200
    assert "Calendar year 2025" in response.text
    assert '<option value="2025" selected>2025</option>' in response.text
    assert 'href="/admin/reports" aria-current="page"' in response.text


def test_california_scope_and_a_year_in_progress(client: TestClient, db: Session) -> None:
    add_request(db, "deletion", "CA", at("2026-02-01T12:00"), days=4)
    add_request(db, "deletion", "NV", at("2026-02-01T12:00"), days=4)
    log_in_as(client, db, "auditor")

    response = client.get("/admin/reports/ccpa-7102?year=2026&scope=california")

    assert response.status_code == 200
    assert "<strong>Scope:</strong> California consumers only." in response.text
    assert "2026 is not over:</strong> these are the figures to date." in response.text
    assert '<option value="california" selected>' in response.text
    assert "Requests to delete: 1 received" in response.text


def test_csv_download(client: TestClient, db: Session) -> None:
    add_year_2025(db)
    log_in_as(client, db, "admin")
    before = audit_count(db)

    response = client.get("/admin/reports/ccpa-7102.csv?year=2025")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="ccpa-7102-2025-all.csv"'
    )
    assert response.text == EXPECTED_CSV
    assert audit_count(db) == before  # aggregates only: nothing to record


def test_csv_california_only(client: TestClient, db: Session) -> None:
    add_year_2025(db)
    log_in_as(client, db, "auditor")

    response = client.get("/admin/reports/ccpa-7102.csv?year=2025&scope=california")

    assert response.headers["content-disposition"].endswith('"ccpa-7102-2025-california.csv"')
    lines = response.text.split("\r\n")
    assert lines[0] == (
        "# CCPA 11 CCR 7102 metrics; calendar year 2025; scope: California consumers only"
    )
    assert lines[2] == "delete,Requests to delete,4,2,0,0,0,0,0,15.0,15.0"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=2019", "year</a>: must be a year from 2020 to 2026"),
        ("year=2027", "year</a>: must be a year from 2020 to 2026"),
        ("year=%3Cscript%3E", "year</a>: must be a year from 2020 to 2026"),
        ("year=2025&scope=texas", "scope</a>: must be all or california"),
    ],
)
@pytest.mark.parametrize("path", ["/admin/reports/ccpa-7102", "/admin/reports/ccpa-7102.csv"])
def test_bad_input_is_a_422_page(
    client: TestClient, db: Session, path: str, query: str, message: str
) -> None:
    log_in_as(client, db, "auditor")

    response = client.get(f"{path}?{query}")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert "<svg" not in response.text
    assert "<script>" not in response.text


@pytest.mark.parametrize("role", ["agent", "engineer"])
def test_roles_without_reports_read_are_refused(client: TestClient, db: Session, role: str) -> None:
    log_in_as(client, db, role)

    for path in ("/admin/reports", "/admin/reports/ccpa-7102", "/admin/reports/ccpa-7102.csv"):
        assert client.get(path).status_code == 403
    home = client.get("/admin")
    assert 'href="/admin/reports"' not in home.text


def test_the_console_nav_shows_reports_to_readers(client: TestClient, db: Session) -> None:
    log_in_as(client, db, "auditor")

    assert 'href="/admin/reports"' in client.get("/admin").text


def test_json_api(client: TestClient, db: Session) -> None:
    add_year_2025(db)
    headers = bearer(db, "auditor")

    response = client.get("/api/v1/admin/reports/ccpa-7102?year=2025", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["year"], body["scope"], body["year_complete"]) == (2025, "all", True)
    delete = body["kinds"][0]
    assert (delete["kind"], delete["received"], delete["median_days"]) == ("delete", 6, 15.0)


def test_json_api_names_the_bad_field(client: TestClient, db: Session) -> None:
    headers = bearer(db, "auditor")

    response = client.get("/api/v1/admin/reports/ccpa-7102?year=1999&scope=mars", headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["year", "scope"]
