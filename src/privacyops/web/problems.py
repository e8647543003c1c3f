"""RFC 9457 problem details for every API error, naming the offending field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from privacyops.errors import FieldProblem, PrivacyOpsError
from privacyops.policy.yamlsource import path_to_field

PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int, title: str, detail: str, problems: list[FieldProblem] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if problems:
        body["errors"] = [
            {k: v for k, v in vars(p).items() if v is not None and k != "severity"}
            for p in problems
        ]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(PrivacyOpsError)
    async def _domain(_request: Request, exc: PrivacyOpsError) -> JSONResponse:
        return problem_response(exc.status_code, exc.title, exc.message, exc.problems)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            FieldProblem(
                field=path_to_field([p for p in err["loc"] if isinstance(p, str | int)]),
                message=str(err.get("msg", "invalid value")),
            )
            for err in exc.errors()
        ]
        names = ", ".join(p.field for p in problems)
        return problem_response(422, "Invalid input", f"invalid fields: {names}", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem_response(exc.status_code, title, str(exc.detail))
