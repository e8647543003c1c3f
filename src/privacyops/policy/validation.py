"""Rules that relate one part of a manifest to another, and the manifest to fideslang.

Each check returns findings rather than raising, so that every problem is reported at once.
"""

from __future__ import annotations

from privacyops.policy.findings import Finding
from privacyops.policy.manifest import PolicyManifest


def check_manifest(manifest: PolicyManifest) -> list[Finding]:
    """Every consistency problem of a structurally valid manifest."""
    findings: list[Finding] = []
    categories = {c.key for c in manifest.data_categories}
    for index, purpose in enumerate(manifest.purposes):
        for position, key in enumerate(purpose.data_categories):
            if key not in categories:
                findings.append(
                    Finding(
                        ("purposes", index, "data_categories", position),
                        f"purpose {purpose.key!r} uses category {key!r}, "
                        "which the policy does not declare",
                    )
                )
    return findings
