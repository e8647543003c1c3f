"""Staff console pages and CSV downloads of the reports, and their JSON twin for scripts.

Reports are aggregates: counts and days per kind of request, no reference, no subject, no
identity. Viewing or downloading one is therefore not a read of personal data and is not
recorded in the audit log (which records staff actions and every read of personal data; a
download of figures that are meant to be published in the privacy policy is neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from privacyops.errors import InvalidInput
from privacyops.reports import service
from privacyops.reports.chart import metrics_chart
from privacyops.reports.schemas import (
    FIRST_YEAR,
    GROUND_LABELS,
    KIND_OF_TYPE,
    SCOPE_LABELS,
    Metrics,
    Scope,
)
from privacyops.staff.console import render_console
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, require
from privacyops.web.deps import DbSession

router = AdminRouter(include_in_schema=False)

REPORTS_PATH = "/admin/reports"
CCPA_PATH = f"{REPORTS_PATH}/ccpa-7102"
API_PATH = "/api/v1/admin/reports/ccpa-7102"

Reader = Annotated[Principal, require(Permission.reports_read)]


def _today() -> date:
    return datetime.now(UTC).date()


@router.get(REPORTS_PATH, response_class=HTMLResponse)
def reports_home(principal: Reader, request: Request, db: DbSession) -> Response:
    """The reports section opens on the CCPA metrics of the previous calendar year."""
    return _report_page(principal, request, db)


@router.get(CCPA_PATH, response_class=HTMLResponse)
def ccpa_report(principal: Reader, request: Request, db: DbSession) -> Response:
    """The 7102 metrics of `year` (default: the previous one) for `scope` (all, california)."""
    return _report_page(principal, request, db)


@router.get(f"{CCPA_PATH}.csv")
def ccpa_csv(principal: Reader, request: Request, db: DbSession) -> Response:
    """The same figures as a CSV download (nothing recorded: aggregates only, see above)."""
    raw = _raw(request.query_params)
    try:
        metrics = _metrics(db, raw)
    except InvalidInput as invalid:
        return _render(principal, raw, errors=_errors(invalid), status_code=422)
    return Response(
        service.ccpa_csv(metrics),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{service.csv_filename(metrics)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(API_PATH, include_in_schema=True, tags=["reports"])
def ccpa_report_api(
    principal: Reader,
    db: DbSession,
    year: Annotated[str | None, Query(description="Calendar year; default the previous.")] = None,
    scope: Annotated[str | None, Query(description="`all` (default) or `california`.")] = None,
) -> Metrics:
    """The 11 CCR 7102 metrics as JSON; bad input is a 422 problem naming the field."""
    return _metrics(db, {"year": year or "", "scope": scope or ""})


# --- helpers ----------------------------------------------------------------------------------


def _raw(values: Mapping[str, str]) -> dict[str, str]:
    return {name: values.get(name, "")[:20] for name in ("year", "scope")}


def _metrics(db: DbSession, raw: Mapping[str, str]) -> Metrics:
    today = _today()
    problems = []
    year = scope = None
    try:
        year = service.parse_year(raw.get("year"), today)
    except InvalidInput as invalid:
        problems += invalid.problems
    try:
        scope = service.parse_scope(raw.get("scope"))
    except InvalidInput as invalid:
        problems += invalid.problems
    if year is None or scope is None:
        raise InvalidInput("; ".join(p.render() for p in problems), problems)
    return service.ccpa_metrics(db, year, california_only=scope is Scope.california, today=today)


def _report_page(principal: Principal, request: Request, db: DbSession) -> HTMLResponse:
    raw = _raw(request.query_params)
    try:
        metrics = _metrics(db, raw)
    except InvalidInput as invalid:
        return _render(principal, raw, errors=_errors(invalid), status_code=422)
    return _render(principal, raw, metrics=metrics)


def _errors(invalid: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in invalid.problems:
        errors.setdefault(problem.field, problem.message)
    return errors or {"form": invalid.message}


def _render(
    principal: Principal,
    raw: Mapping[str, str],
    *,
    metrics: Metrics | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = _today()
    year = str(metrics.year) if metrics is not None else raw.get("year", "")
    scope = metrics.scope.value if metrics is not None else raw.get("scope", "")
    query = urlencode({"year": year, "scope": scope})
    return render_console(
        "admin/reports_ccpa.html",
        principal,
        status_code=status_code,
        nav_current="reports",
        page_title=f"CCPA metrics {metrics.year}" if metrics is not None else "CCPA metrics",
        metrics=metrics,
        chart=metrics_chart(metrics) if metrics is not None else None,
        errors=dict(errors or {}),
        form={"year": year, "scope": scope},
        years=list(range(today.year, FIRST_YEAR - 1, -1)),
        scopes=list(SCOPE_LABELS.items()),
        grounds=GROUND_LABELS,
        types_of=_types_by_kind(),
        csv_url=f"{CCPA_PATH}.csv?{query}" if metrics is not None else None,
        scope_note=service.scope_note(metrics) if metrics is not None else "",
    )


def _types_by_kind() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for request_type, kind in KIND_OF_TYPE.items():
        found.setdefault(kind.value, []).append(str(request_type))
    return found
