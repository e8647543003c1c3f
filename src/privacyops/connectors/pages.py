"""The page a processor opens from an instruction mail to confirm it carried it out.

    GET  /processors/ack/{token}    what the instruction is, and a button; changes nothing,
                                    because mail scanners and link previews open links on
                                    their own: only a person pressing the button confirms.
    POST /processors/ack/{token}    records the confirmation once, audits it, says thank you;
                                    a second press says it was already confirmed.

CSRF: no cookie, no session, and no CSRF token. A forged cross-site POST works only with the
URL's token, and whoever has that token can confirm anyway: it is the credential (256 random
bits, mailed to the processor alone, stored only as an HMAC). With no ambient authority there
is nothing for a forged request to borrow; and confirming twice changes nothing.

An unknown, tampered or malformed token gets one 404 page that reveals nothing. Both routes
share a per-client rate limit with the other public pages' rule, under their own key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from privacyops.connectors.email import (
    AckLinks,
    acknowledge,
    instruction_for_token,
    instruction_reference,
    operation_title,
)
from privacyops.dsr.records import FULFIL_FLAG
from privacyops.errors import NotFound
from privacyops.jobs.transactional import enqueue_after_commit
from privacyops.models.connectors import ProcessorInstruction
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.web.auth import client_address
from privacyops.web.deps import AppSettings, AppVault, DbSession
from privacyops.web.limits import public_page_limited
from privacyops.web.templating import error_page, long_date, render_page

router = APIRouter(tags=["processor pages"], include_in_schema=False)

ACK_ROUTE = "/processors/ack/{token}"


def _private(response: Response) -> Response:
    """The page names a request: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found() -> Response:
    return _private(
        error_page(
            404,
            "Link not found",
            "This confirmation link is not valid. Use the link in the instruction we sent you, "
            "or reply to that message.",
        )
    )


def _rate_limited(request: Request, settings: Settings) -> HTMLResponse | None:
    return public_page_limited(request, settings, "processor-ack")


def _site_name(db: Session, now: datetime) -> str:
    from privacyops.dsr.service import manifest_of, policy_in_force

    try:
        return manifest_of(policy_in_force(db, now)).organization.name
    except NotFound:
        return "Privacy Center"


def _page(
    db: Session, template: str, found: ProcessorInstruction, token: str, **context: Any
) -> Response:
    now = utcnow()
    response = render_page(
        template,
        site_name=_site_name(db, now),
        page_title="Confirm a privacy instruction",
        title=operation_title(found.operation),
        reference=instruction_reference(found),
        for_opt_out=found.propagation_id is not None,
        collection=found.collection,
        sent_on=long_date(found.sent_at.date()),
        acknowledged_on=long_date(found.acknowledged_at.date()) if found.acknowledged_at else None,
        action=f"/processors/ack/{token}",
        **context,
    )
    return _private(response)


@router.get(ACK_ROUTE, response_class=HTMLResponse)
def ack_form(request: Request, db: DbSession, settings: AppSettings, token: str) -> Response:
    refused = _rate_limited(request, settings)
    if refused is not None:
        return refused
    found = instruction_for_token(db, AckLinks.from_settings(settings), token)
    if found is None:
        return _not_found()
    return _page(db, "processors/ack.html", found, token)


@router.post(ACK_ROUTE, response_class=HTMLResponse)
def ack_submit(
    request: Request, db: DbSession, vault: AppVault, settings: AppSettings, token: str
) -> Response:
    refused = _rate_limited(request, settings)
    if refused is not None:
        return refused
    found = instruction_for_token(db, AckLinks.from_settings(settings), token)
    if found is None:
        return _not_found()
    recorded = acknowledge(db, vault, found, now=utcnow(), client=client_address(request))
    if recorded and found.request_id is not None:
        # The engine goes on with the request once this is committed (see `web.deps`), rather
        # than at the next periodic run; it does nothing for a request that is not running.
        db.info.setdefault(FULFIL_FLAG, set()).add(found.request_id)
    if recorded and found.propagation_id is not None:
        # The opt-out task it belongs to is closed once this is committed (`consent.propagate`
        # picks the confirmed ones), rather than at the job's next periodic run.
        enqueue_after_commit(db, request.app.state.jobs, "consent.propagate")
    return _page(db, "processors/done.html", found, token, already=not recorded)
