"""Errors the domains raise; the edges (API, pages, CLI) turn them into responses or messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class FieldProblem:
    """One problem with one field of the input: where it is and what is wrong."""

    field: str
    message: str
    line: int | None = None
    file: str | None = None
    severity: Literal["error", "warning"] = "error"

    def render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.field}: {self.message}"


class PrivacyOpsError(Exception):
    """Base of every expected error: the message is fit to show to the person who caused it."""

    status_code = 400
    title = "Bad request"

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class NotFound(PrivacyOpsError):
    status_code = 404
    title = "Not found"


class Conflict(PrivacyOpsError):
    status_code = 409
    title = "Conflict"


class InvalidInput(PrivacyOpsError):
    """Input that fails validation; carries every problem found, not only the first."""

    status_code = 422
    title = "Invalid input"
