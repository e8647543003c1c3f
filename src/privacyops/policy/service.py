"""Publishing policy versions and reading them back. Plain Python: the caller commits.

A published version is a public record (section 13 of the policy): it is never changed, a change
is a new version with its own effective date. A material change is announced before it takes
effect, at least `changes.notice_days` days ahead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.policy import repository
from privacyops.policy.diff import Change, diff_manifests, is_material
from privacyops.policy.loader import LoadedManifest
from privacyops.policy.manifest import PolicyManifest

MAX_PAGE = 100
VersionStatus = Literal["in force", "scheduled", "superseded"]


class PublishRefused(Conflict):
    """The manifest is valid, but publishing it with this effective date breaks a rule."""

    title = "Publication refused"


@dataclass(frozen=True)
class PublishResult:
    version: PolicyVersion
    created: bool
    changes: list[Change]

    @property
    def material(self) -> bool:
        return self.version.material_change if self.created else False

    @property
    def message(self) -> str:
        v = self.version
        if not self.created:
            return (
                f"no change: identical to version {v.number} (effective on {v.effective_on}); "
                "nothing published"
            )
        if v.number == 1:
            return f"published version 1, effective on {v.effective_on} (first version)"
        material = sum(1 for change in self.changes if change.material)
        kind = f"material change ({material} of {len(self.changes)} changes material)"
        if not material:
            minor = (
                "1 minor change" if len(self.changes) == 1 else f"{len(self.changes)} minor changes"
            )
            kind = f"no material change ({minor})"
        return f"published version {v.number}, effective on {v.effective_on}: {kind}"


@dataclass(frozen=True)
class VersionPage:
    items: Sequence[PolicyVersion]
    total: int
    offset: int
    limit: int


def manifest_json(manifest: PolicyManifest) -> dict[str, Any]:
    """The stored form of a manifest; `PolicyManifest.model_validate` reads it back."""
    return manifest.model_dump(mode="json", by_alias=True)


def content_hash(manifest: PolicyManifest) -> str:
    """sha256 of the manifest's canonical JSON: equal content, equal hash, whatever the YAML."""
    canonical = json.dumps(
        manifest_json(manifest), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stored_manifest(version: PolicyVersion) -> PolicyManifest:
    return PolicyManifest.model_validate(version.manifest)


def publish(
    db: Session,
    loaded: LoadedManifest,
    effective_on: date,
    today: date,
    published_by: str,
    actor: str = "cli",
) -> PublishResult:
    """Publish a manifest as the next version, or refuse with the rule it breaks.

    Idempotent: publishing the content of the latest version again returns that version and
    stores nothing. Only the first version may be backdated (importing the policy already in
    force); later ones take effect today or after, in order, and a material change no earlier
    than the notice period allows.
    """
    manifest = _valid_manifest(loaded)
    publisher = _publisher(published_by)
    digest = content_hash(manifest)
    latest = repository.latest_version(db)
    if latest is not None and latest.content_hash == digest:
        return PublishResult(latest, created=False, changes=[])
    changes: list[Change] = []
    if latest is not None:
        _check_order(latest, effective_on, today)
        changes = diff_manifests(stored_manifest(latest), manifest)
        if is_material(changes):
            _check_notice(stored_manifest(latest), manifest, effective_on, today)
    version = PolicyVersion(
        number=repository.next_number(db),
        effective_on=effective_on,
        published_at=utcnow(),
        published_by=publisher,
        content_hash=digest,
        material_change=is_material(changes),
        change_summary=[change.model_dump(mode="json") for change in changes],
        source_yaml=loaded.text,
        manifest=manifest_json(manifest),
    )
    repository.add_version(db, version)
    record(
        db,
        AuditAction.policy_published,
        actor=actor,
        target=f"policy:v{version.number}",
        details={
            "effective_on": effective_on.isoformat(),
            "material": version.material_change,
            "published_by": publisher,
        },
    )
    return PublishResult(version, created=True, changes=changes)


def _valid_manifest(loaded: LoadedManifest) -> PolicyManifest:
    if loaded.manifest is None or loaded.errors:
        errors = loaded.errors
        raise InvalidInput(
            f"{loaded.filename}: {len(errors)} error(s); nothing published", problems=errors
        )
    return loaded.manifest


def _publisher(published_by: str) -> str:
    name = published_by.strip()
    if not name or len(name) > 200:
        problem = FieldProblem("published_by", "give the publisher's name (1 to 200 characters)")
        raise InvalidInput("published_by: give the publisher's name", problems=[problem])
    return name


def _check_order(latest: PolicyVersion, effective_on: date, today: date) -> None:
    if effective_on < today:
        raise PublishRefused(
            f"effective date {effective_on} is in the past; only the first version may be "
            f"backdated (today is {today})"
        )
    if effective_on < latest.effective_on:
        raise PublishRefused(
            f"effective date {effective_on} is earlier than that of version {latest.number} "
            f"({latest.effective_on}); versions take effect in the order they are published"
        )


def _check_notice(
    old: PolicyManifest, new: PolicyManifest, effective_on: date, today: date
) -> None:
    # Section 13: material changes are notified before they take effect. The longer of the
    # old and new notice periods applies, so that shortening the notice cannot shorten itself.
    notice = old if old.changes.notice_days >= new.changes.notice_days else new
    earliest = notice.earliest_material_change(today)
    if effective_on < earliest:
        days = notice.changes.notice_days
        notice_text = f"{days} day's notice" if days == 1 else f"{days} days' notice"
        raise PublishRefused(
            f"material change: it may take effect on {earliest} at the earliest "
            f"({notice_text}, policy section 13); effective date given: {effective_on}"
        )


def version_in_force(db: Session, on: date) -> PolicyVersion:
    version = repository.version_in_force(db, on)
    if version is None:
        raise NotFound(f"no policy version is in force on {on}")
    return version


def get_version(db: Session, number: int) -> PolicyVersion:
    version = repository.get_version(db, number)
    if version is None:
        raise NotFound(f"policy version {number} does not exist")
    return version


def list_versions(db: Session, offset: int = 0, limit: int = 50) -> VersionPage:
    """Newest first."""
    problems = []
    if offset < 0:
        problems.append(FieldProblem("offset", "must be 0 or more"))
    if not 1 <= limit <= MAX_PAGE:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_PAGE}"))
    if problems:
        names = ", ".join(p.field for p in problems)
        raise InvalidInput(f"invalid fields: {names}", problems=problems)
    items = repository.list_versions(db, offset=offset, limit=limit)
    return VersionPage(items, repository.count_versions(db), offset, limit)


def status_of(version: PolicyVersion, in_force: PolicyVersion | None, today: date) -> VersionStatus:
    """`in force`, `scheduled` (published, not yet effective) or `superseded`."""
    if version.effective_on > today:
        return "scheduled"
    if in_force is not None and version.number == in_force.number:
        return "in force"
    return "superseded"


def upcoming_material_change(db: Session, today: date) -> PolicyVersion | None:
    """The next published version with a material change that has not taken effect yet."""
    return next((v for v in repository.scheduled_versions(db, today) if v.material_change), None)


def diff_versions(db: Session, old_number: int, new_number: int) -> list[Change]:
    old, new = get_version(db, old_number), get_version(db, new_number)
    return diff_manifests(stored_manifest(old), stored_manifest(new))
