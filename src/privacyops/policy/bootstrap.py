"""First-run set-up: publish the default policy when no version is published yet."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from privacyops import runtime
from privacyops.db import unit_of_work
from privacyops.errors import InvalidInput
from privacyops.policy import repository, service
from privacyops.policy.loader import load_manifest_file
from privacyops.settings import Settings

_PROBLEMS_SHOWN = 3


def publish_default_policy(settings: Settings, today: date) -> str:
    """Publish settings.default_policy_file if the database has no policy version yet.

    Idempotent, so that `make run` may call it on every start: once any version exists it only
    reports which one is in force. The default policy is the one already in force, so it takes
    effect on its own `last_updated` date (the first version may be backdated).
    """
    factory = runtime.open_session_factory(settings)
    with unit_of_work(factory) as db:
        if repository.latest_version(db) is not None:
            return _current_state(db, today)
        path = settings.default_policy_file
        loaded = load_manifest_file(path)
        if loaded.manifest is None or loaded.errors:
            shown = "; ".join(p.render() for p in loaded.errors[:_PROBLEMS_SHOWN])
            more = len(loaded.errors) - _PROBLEMS_SHOWN
            suffix = f" (and {more} more)" if more > 0 else ""
            raise InvalidInput(
                f"default policy {path} has {len(loaded.errors)} error(s): {shown}{suffix}",
                problems=loaded.errors,
            )
        effective_on = loaded.manifest.last_updated
        result = service.publish(
            db, loaded, effective_on, today, published_by="setup", actor="setup"
        )
        return (
            f"published the default policy {path} as version {result.version.number}, "
            f"effective on {effective_on}"
        )


def _current_state(db: Session, today: date) -> str:
    in_force = repository.version_in_force(db, today)
    if in_force is None:
        first = repository.scheduled_versions(db, today)[0]
        return (
            f"policy version {first.number} is published and takes effect on {first.effective_on}"
        )
    return f"policy version {in_force.number} in force since {in_force.effective_on}"
