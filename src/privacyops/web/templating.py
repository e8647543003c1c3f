"""The Jinja2 environment every HTML page renders through.

One environment for the whole app: autoescape is always on, whatever the template's file name,
because page content comes from manifests, requests and staff input, never trusted as HTML.
Undefined variables raise, so a template typo fails a test instead of rendering an empty gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from privacyops.errors import FieldProblem

TEMPLATES_DIR = Path(__file__).parent / "templates"


def long_date(value: date | None) -> str:
    """`July 31, 2024`: the way the policy itself writes dates."""
    if value is None:
        return ""
    return f"{value:%B} {value.day}, {value.year}"


def yes_no(value: object) -> str:
    return "Yes" if value else "No"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["long_date"] = long_date
    env.filters["yes_no"] = yes_no
    return env


def render_text(template: str, **context: Any) -> str:
    """Render a template to a string; the layout's own variables have defaults."""
    context.setdefault("site_name", "Privacy Center")
    context.setdefault("page_title", None)
    context.setdefault("nav_current", None)
    # The public pages say "<Company> Privacy Center"; the console names itself alone.
    context.setdefault(
        "brand_sub", None if context["site_name"] == "Privacy Center" else "Privacy Center"
    )
    context.setdefault("brand_href", "/")
    return environment().get_template(template).render(**context)


def render_page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a full page as an HTML response (the security headers come from middleware)."""
    return HTMLResponse(render_text(template, **context), status_code=status_code)


def error_page(status_code: int, title: str, message: str, **context: Any) -> HTMLResponse:
    """The HTML error page for routes that people open in a browser (API errors stay JSON)."""
    return render_page(
        "error.html", status_code, page_title=title, error_title=title, message=message, **context
    )


def console_not_found(message: str, *, back_to: str, back_label: str) -> HTMLResponse:
    """The staff console's 404 page, leading back to the list the thing was looked for in."""
    return error_page(
        404,
        "Not found",
        message,
        site_name="Staff console",
        brand_sub=None,
        brand_href="/admin",
        home_href=back_to,
        home_label=back_label,
    )


def sentence(text: str) -> str:
    """A service's message as the page shows it: capitalised (messages start lower case)."""
    text = text.strip()
    return text[:1].upper() + text[1:]


def field_errors(
    problems: Iterable[FieldProblem], rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each form field's first problem, as a sentence; `rename` maps a service's field names
    to the form's."""
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(
            (rename or {}).get(problem.field, problem.field), sentence(problem.message)
        )
    return found
