"""Staff console pages for rights requests: lists, due dates, a request's page and its actions."""

from __future__ import annotations

from privacyops.web.auth import AdminRouter

router = AdminRouter(include_in_schema=False)
