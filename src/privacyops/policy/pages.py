"""Privacy Center pages: home, the policy in force, older versions.

Every page here answers HTML, errors included: a person opened it in a browser. The API under
/api/v1 keeps answering problem+json.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from privacyops.models.policy import PolicyVersion
from privacyops.policy import repository
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.presenter import (
    VersionNotice,
    contact_view,
    present_policy,
    version_notice,
)
from privacyops.web.deps import DbSession
from privacyops.web.templating import error_page, render_page

router = APIRouter(tags=["pages"], include_in_schema=False)
log = logging.getLogger(__name__)

# Version numbers fit the database's integer column; anything else is simply not a version.
_VERSION_NUMBER = re.compile(r"[0-9]{1,9}")


def _today() -> date:
    return date.today()


@router.get("/", response_class=HTMLResponse)
def home(db: DbSession) -> HTMLResponse:
    today = _today()
    scheduled = repository.scheduled_versions(db, today)
    version = repository.version_in_force(db, today)
    if version is None:
        return render_page("policy_missing.html", nav_current="home", scheduled=scheduled)
    manifest = _manifest(version)
    if manifest is None:
        return _unreadable(version)
    return render_page(
        "home.html",
        site_name=manifest.organization.name,
        nav_current="home",
        scheduled=scheduled,
        policy=present_policy(manifest),
        contact=contact_view(manifest),
        version_number=version.number,
        effective_on=version.effective_on,
    )


@router.get("/policy", response_class=HTMLResponse)
def policy_in_force(db: DbSession) -> HTMLResponse:
    today = _today()
    scheduled = repository.scheduled_versions(db, today)
    version = repository.version_in_force(db, today)
    if version is None:
        # 503: the page exists but has nothing to serve until a policy is published.
        return render_page(
            "policy_missing.html",
            503,
            page_title="Privacy Policy",
            nav_current="policy",
            scheduled=scheduled,
        )
    return _policy_page(version, scheduled=scheduled, notice=None)


@router.get("/policy/versions/{number}", response_class=HTMLResponse)
def policy_version(number: str, db: DbSession) -> HTMLResponse:
    # A str parameter so that a malformed number gets the HTML 404 page, not a JSON 422.
    version = repository.get_version(db, int(number)) if _VERSION_NUMBER.fullmatch(number) else None
    if version is None:
        return error_page(
            404,
            "Policy version not found",
            f"There is no version {number} of the privacy policy.",
        )
    today = _today()
    in_force = repository.version_in_force(db, today)
    notice = version_notice(
        version.number,
        version.effective_on,
        today,
        (in_force.number, in_force.effective_on) if in_force else None,
    )
    return _policy_page(version, scheduled=(), notice=notice)


def _policy_page(
    version: PolicyVersion, scheduled: Sequence[PolicyVersion], notice: VersionNotice | None
) -> HTMLResponse:
    manifest = _manifest(version)
    if manifest is None:
        return _unreadable(version)
    return render_page(
        "policy.html",
        site_name=manifest.organization.name,
        page_title=manifest.title,
        nav_current="policy",
        policy=present_policy(manifest),
        version_number=version.number,
        effective_on=version.effective_on,
        scheduled=scheduled,
        notice=notice,
    )


def _manifest(version: PolicyVersion) -> PolicyManifest | None:
    """The stored manifest, or None if it no longer fits the schema (e.g. after an upgrade)."""
    try:
        return PolicyManifest.model_validate(version.manifest)
    except ValidationError as exc:
        log.error("policy version %s does not fit the manifest schema: %s", version.number, exc)
        return None


def _unreadable(version: PolicyVersion) -> HTMLResponse:
    return error_page(
        500,
        "The privacy policy cannot be shown",
        f"Version {version.number} of the privacy policy could not be read. "
        "Please try again later or contact us.",
    )
