"""Compare a manifest with the state-law rules and warn where the policy is behind the law."""

from __future__ import annotations

from datetime import date

from privacyops.policy.findings import Finding
from privacyops.policy.manifest import PolicyManifest


def check_against_law(manifest: PolicyManifest, on: date) -> list[Finding]:
    """Warnings (never errors) where the policy promises less than the law in force on `on`."""
    return []
