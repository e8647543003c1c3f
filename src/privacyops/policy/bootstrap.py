"""First-run set-up: publish the default policy when no version is published yet."""

from __future__ import annotations

from datetime import date

from privacyops.settings import Settings


def publish_default_policy(settings: Settings, today: date) -> str:
    """Publish settings.default_policy_file if the database has no policy version yet."""
    return f"default policy not published yet ({settings.default_policy_file}, {today})"
