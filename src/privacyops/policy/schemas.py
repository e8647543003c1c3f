"""API response models for the policy: versions, the manifest in force, diffs."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from privacyops.models.policy import PolicyVersion
from privacyops.policy.diff import Change
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.service import VersionStatus, status_of, stored_manifest


class PolicyVersionSummary(BaseModel):
    number: int = Field(description="Version number, counting from 1.")
    effective_on: date = Field(description="The day this version takes effect.")
    published_at: datetime = Field(description="When it was published (UTC).")
    content_hash: str = Field(description="sha256 of the manifest's canonical JSON.")
    material_change: bool = Field(
        description="Whether it changes the previous version materially (policy section 13)."
    )
    status: VersionStatus

    @classmethod
    def of(
        cls, version: PolicyVersion, in_force: PolicyVersion | None, today: date
    ) -> PolicyVersionSummary:
        status = status_of(version, in_force, today)
        return cls(
            number=version.number,
            effective_on=version.effective_on,
            published_at=version.published_at,
            content_hash=version.content_hash,
            material_change=version.material_change,
            status=status,
        )


class PolicyVersionOut(PolicyVersionSummary):
    manifest: PolicyManifest

    @classmethod
    def full(
        cls, version: PolicyVersion, in_force: PolicyVersion | None, today: date
    ) -> PolicyVersionOut:
        summary = PolicyVersionSummary.of(version, in_force, today)
        return cls(**summary.model_dump(), manifest=stored_manifest(version))


class PolicyVersionList(BaseModel):
    items: list[PolicyVersionSummary]
    total: int = Field(description="Number of published versions.")
    offset: int
    limit: int


class PolicyDiffOut(BaseModel):
    old: int = Field(description="Number of the older version compared.")
    new: int = Field(description="Number of the newer version compared.")
    material: bool = Field(description="Whether any change is material.")
    material_count: int
    changes: list[Change]
