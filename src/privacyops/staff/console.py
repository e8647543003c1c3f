"""The staff console's shell: its sections and how every console page is rendered.

Pages of other domains render through `render_console` with a template that extends
`admin/layout.html`; the navigation then shows only the sections the caller's role may open,
and the logout form carries the session's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import HTMLResponse

from privacyops.staff.permissions import DESCRIPTIONS, Permission, Role, permissions_of
from privacyops.web.auth import Principal
from privacyops.web.templating import render_page

SITE_NAME = "Staff console"


@dataclass(frozen=True)
class Section:
    href: str
    label: str
    key: str
    permission: Permission
    summary: str


SECTIONS: tuple[Section, ...] = (
    Section("/admin", "Dashboard", "dashboard", Permission.console_use, "Who you are."),
    Section(
        "/admin/requests",
        "Requests",
        "requests",
        Permission.requests_read,
        "Rights requests: what is due, decisions, requests received by mail or phone.",
    ),
    Section(
        "/admin/consent",
        "Consent",
        "consent",
        Permission.consent_read,
        "A person's consent choices; record one they made by phone, email or in a store.",
    ),
    Section(
        "/admin/consent/propagations",
        "Opt-outs to partners",
        "consent_propagations",
        Permission.consent_read,
        "Opt-outs passed on to advertising and marketing partners: what is due, overdue, or "
        "needs a person.",
    ),
    Section(
        "/admin/staff", "Staff", "staff", Permission.staff_read, "Staff accounts and their roles."
    ),
    Section("/admin/audit", "Audit log", "audit", Permission.audit_read, "Who did what, and when."),
    Section(
        "/admin/reports",
        "Reports",
        "reports",
        Permission.reports_read,
        "The CCPA request metrics (11 CCR 7102) per year, as a table, a chart and CSV.",
    ),
    Section(
        "/admin/account",
        "Account",
        "account",
        Permission.console_use,
        "Your password and your API tokens.",
    ),
)


def sections_for(principal: Principal | None) -> list[Section]:
    if principal is None:
        return []
    return [s for s in SECTIONS if principal.may(s.permission)]


def render_console(
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    nav_current: str | None = None,
    page_title: str | None = None,
    **context: Any,
) -> HTMLResponse:
    return render_page(
        template,
        status_code,
        site_name=SITE_NAME,
        brand_sub=None,
        brand_href="/admin",
        page_title=page_title,
        nav_current=nav_current,
        principal=principal,
        console_nav=sections_for(principal),
        csrf_token=principal.csrf_token if principal is not None else "",
        **context,
    )


def abilities(principal: Principal) -> list[str]:
    """What the caller's role may do, in words, in the table's order."""
    granted = permissions_of(principal.role)
    return [DESCRIPTIONS[p] for p in Permission if p in granted]


def role_abilities() -> list[tuple[Role, list[str]]]:
    """Each role with what it may do, in words: shown where someone chooses a role."""
    return [
        (role, [DESCRIPTIONS[p] for p in Permission if p in permissions_of(role)]) for role in Role
    ]
