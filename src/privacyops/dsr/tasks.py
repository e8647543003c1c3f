"""Background jobs of rights requests: sending queued mail, deadlines, denials, purges.

Each opens its own sessions through `runtime` and is idempotent: it re-derives its work from the
database, so a retry or a second worker changes nothing more.
"""

from __future__ import annotations

from privacyops import runtime
from privacyops.db import unit_of_work
from privacyops.dsr import downloads, fulfilment, jobs
from privacyops.dsr.tokens import StatusLinks
from privacyops.jobs.registry import job
from privacyops.models.types import utcnow
from privacyops.notify.mail import get_mail_sender
from privacyops.notify.outbox import dispatch_pending
from privacyops.settings import Settings


@job("mail.dispatch", every_seconds=15)
def dispatch_mail(settings: Settings) -> None:
    """Send what is queued (also retried failures whose back-off has passed)."""
    dispatch_pending(
        runtime.open_session_factory(settings),
        get_mail_sender(settings),
        runtime.open_vault(settings),
    )


@job("requests.fulfil")
def fulfil(settings: Settings, request_id: str) -> None:
    """A request's work in the connected datastores (idempotent: resumes from its tasks)."""
    fulfilment.run(
        runtime.open_session_factory(settings),
        runtime.open_vault(settings),
        StatusLinks.from_settings(settings),
        request_id,
        package_days=settings.package_days,
    )
    dispatch_mail(settings)


@job("requests.resume", every_seconds=30)
def resume(settings: Settings) -> None:
    """Requests whose datastore work is due: a failed datastore past its back-off, a job lost
    with a killed worker, a request that reached in_progress outside a web request."""
    with unit_of_work(runtime.open_session_factory(settings)) as db:
        due = fulfilment.due_for_a_run(db, utcnow())
    for request_id in due:
        fulfil(settings, request_id)


@job("requests.housekeeping", every_seconds=3600)
def housekeeping(settings: Settings) -> None:
    """Hourly: flag requests due soon, deny the unverifiable past their due date (11 CCR
    7021(b)), purge records kept longer than 24 months (11 CCR 7101), then send the notices."""
    vault = runtime.open_vault(settings)
    now = utcnow()
    with unit_of_work(runtime.open_session_factory(settings)) as db:
        jobs.flag_due_soon(db, now)
        jobs.deny_unverified_past_due(db, vault, StatusLinks.from_settings(settings), now)
        jobs.purge_old_records(db, now)
        downloads.erase_expired(db, now)
    dispatch_mail(settings)
