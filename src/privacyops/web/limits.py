"""The rate limit of public pages: one rule (`rate_limit_public`) per client address and page
family, answered with a 429 page that says when to try again."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from privacyops.ratelimit import get_limiter
from privacyops.settings import Settings
from privacyops.web.auth import client_address
from privacyops.web.templating import error_page


def public_page_limited(request: Request, settings: Settings, scope: str) -> HTMLResponse | None:
    """None when the client may go on; otherwise the 429 page with `Retry-After`."""
    client = client_address(request) or "unknown"
    decision = get_limiter(settings).hit(f"{scope}:{client}", settings.rate_limit_public)
    if decision.allowed:
        return None
    refused = error_page(
        429,
        "Too many requests",
        f"Too many requests from your address. Try again in {decision.retry_after} seconds.",
    )
    refused.headers["Retry-After"] = str(decision.retry_after)
    return refused
