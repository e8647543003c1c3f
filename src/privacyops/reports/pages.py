"""Staff console pages and CSV downloads of the reports."""

from __future__ import annotations

from privacyops.web.auth import AdminRouter

router = AdminRouter(include_in_schema=False)
