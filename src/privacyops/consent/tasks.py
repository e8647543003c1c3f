"""Background jobs of consent: passing opt-outs on to partners."""

from __future__ import annotations

from privacyops import runtime
from privacyops.connectors.email import AckLinks
from privacyops.consent import propagation
from privacyops.jobs.registry import job
from privacyops.models.types import utcnow
from privacyops.settings import Settings


@job("consent.propagate", every_seconds=60)
def propagate(settings: Settings) -> None:
    """Every minute (and at once after staff ask for a retry, or a partner confirms a mailed
    instruction): opt-outs due to partners, failed ones past their back-off, and those a partner
    has confirmed."""
    propagation.run_due(
        runtime.open_session_factory(settings),
        runtime.open_vault(settings),
        utcnow(),
        AckLinks.from_settings(settings),
    )
