"""The notices a requester receives, rendered and queued in the outbox in the caller's
transaction (sent after commit by the dispatcher)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from privacyops.dsr import repository
from privacyops.dsr.attorneys_general import complaint_for
from privacyops.dsr.records import identity_value, unseal_json
from privacyops.dsr.snapshot import Rules
from privacyops.dsr.status import DENIAL_TEXT, DenialReason
from privacyops.dsr.tokens import StatusLinks
from privacyops.identity.normalize import IdentityKind
from privacyops.models.dsr import DataRequest
from privacyops.notify.outbox import MessageChannel, queue_mail, queue_rendered, render_mail
from privacyops.rights.calendar import local_date
from privacyops.rights.rules import RequestType
from privacyops.vault.service import SubjectShredded, Vault
from privacyops.web.templating import long_date

CODE_MINUTES = 15

TYPE_LABELS: dict[str, str] = {
    RequestType.confirm: "Confirm whether we process your information",
    RequestType.access: "Access to your information",
    RequestType.portability: "A portable copy of your information",
    RequestType.deletion: "Deletion of your information",
    RequestType.correction: "Correction of your information",
    RequestType.opt_out_sale: "Opt-out of the sale of your information",
    RequestType.opt_out_sharing: "Opt-out of sharing for cross-context behavioral advertising",
    RequestType.opt_out_targeted_advertising: "Opt-out of targeted advertising",
    RequestType.opt_out_profiling: "Opt-out of profiling",
    RequestType.limit_sensitive: "Limit the use of your sensitive information",
    RequestType.appeal: "Appeal of our decision",
}

_OUTCOMES: dict[str, str] = {
    RequestType.confirm: "We have answered whether we process your information.",
    RequestType.access: "Your information is ready to see.",
    RequestType.portability: "Your copy of your information is ready.",
    RequestType.deletion: "We have deleted your information, except what the law requires us "
    "to keep.",
    RequestType.correction: "We have corrected your information.",
    RequestType.appeal: "We have reconsidered our decision.",
}
_OPT_OUT_DONE = "We have applied your choice."


def type_label(request_type: str) -> str:
    return TYPE_LABELS.get(request_type, request_type)


def local_day(request: DataRequest, moment: datetime) -> str:
    return long_date(local_date(moment, request.state))


def requester_email(db: Session, vault: Vault, request: DataRequest) -> str | None:
    """The requester's address, or None once their data was crypto-shredded."""
    for identity in repository.identities_of(db, request.id):
        if identity.kind == IdentityKind.email:
            try:
                return identity_value(vault, request, identity)
            except SubjectShredded:
                return None
    return None


def _queue(
    db: Session,
    vault: Vault,
    request: DataRequest,
    template: str,
    subject: str,
    now: datetime,
    **context: object,
) -> bool:
    to = requester_email(db, vault, request)
    if to is None:
        return False
    rendered = render_mail(template, subject, reference=request.id, **context)
    queue_rendered(
        db, vault, to=to, rendered=rendered, template=template, request_id=request.id, now=now
    )
    return True


def receipt(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    *,
    details: str | None,
    now: datetime,
) -> bool:
    """Receipt at once (11 CCR 7021(a) asks for 10 business days). A status link only when
    there is nothing to verify: otherwise the code is the proof the link would skip."""
    needs_code = request.verification != "none"
    return _queue(
        db,
        vault,
        request,
        "dsr_receipt",
        f"We received your privacy request {request.id}",
        now,
        type_label=type_label(request.type),
        received_on=local_day(request, request.received_at),
        due_on=local_day(request, request.due_at),
        needs_code=needs_code,
        high=request.verification == "high",
        details=details,
        status_url=None if needs_code else links.url(request.id),
    )


def code(
    db: Session,
    vault: Vault,
    request: DataRequest,
    *,
    kind: str,
    to: str,
    code: str,
    now: datetime,
) -> None:
    """The code goes to the identity it proves: by mail, or by text message for a phone."""
    subject = f"Your verification code for request {request.id}"
    context = {
        "code": code,
        "reference": request.id,
        "minutes": CODE_MINUTES,
        "agent_name": _agent_name(vault, request),
    }
    if kind == IdentityKind.phone:
        rendered = render_mail("dsr_code_sms", subject, **context)
        queue_mail(
            db,
            vault,
            to=to,
            subject=subject,
            text=rendered.text.strip(),
            template="dsr_code_sms",
            request_id=request.id,
            channel=MessageChannel.sms,
            now=now,
        )
        return
    queue_rendered(
        db,
        vault,
        to=to,
        rendered=render_mail("dsr_code", subject, **context),
        template="dsr_code",
        request_id=request.id,
        now=now,
    )


def _agent_name(vault: Vault, request: DataRequest) -> str | None:
    """The authorized agent who asked for the person, named in the code mail: entering the code
    is the person's own confirmation that they gave the agent permission (11 CCR 7063(a))."""
    if not request.via_agent:
        return None
    payload = unseal_json(vault, request, "payload", request.payload_ciphertext) or {}
    agent = payload.get("agent") or {}
    return str(agent.get("name") or "an authorized agent")


def extension(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    *,
    previous_due_at: datetime,
    reason: str,
    now: datetime,
) -> bool:
    assert request.extended_due_at is not None
    return _queue(
        db,
        vault,
        request,
        "dsr_extension",
        f"We need more time for your privacy request {request.id}",
        now,
        due_on=local_day(request, request.extended_due_at),
        previous_due_on=local_day(request, previous_due_at),
        reason=reason,
        status_url=links.url(request.id),
    )


def completion(
    db: Session, vault: Vault, links: StatusLinks, request: DataRequest, *, now: datetime
) -> bool:
    return _queue(
        db,
        vault,
        request,
        "dsr_completion",
        f"Your privacy request {request.id} is complete",
        now,
        type_label=type_label(request.type),
        outcome=_OUTCOMES.get(request.type, _OPT_OUT_DONE),
        status_url=links.url(request.id),
        link_days=links.max_age_days,
        downloads=_downloads(db, links, request, now),
        package_days=_package_days(db, request),
    )


def _downloads(
    db: Session, links: StatusLinks, request: DataRequest, now: datetime
) -> list[tuple[str, str]]:
    from privacyops.dsr.downloads import PackageLinks, download_links

    return download_links(db, PackageLinks(links.secret_key, links.public_url), request.id, now)


def _package_days(db: Session, request: DataRequest) -> int | None:
    from privacyops.dsr.downloads import packages_of

    stored = packages_of(db, request.id)
    return (stored[0].expires_at - stored[0].created_at).days if stored else None


def appeal_until(request: DataRequest) -> datetime | None:
    """The end of the appeal window of a closed request; None where there is no appeal (no
    duty in the state, or the request is itself an appeal)."""
    days = Rules(request.rules_snapshot).appeal_days
    if days is None or request.type == RequestType.appeal or request.closed_at is None:
        return None
    return request.closed_at + timedelta(days=days)


def denial(
    db: Session,
    vault: Vault,
    links: StatusLinks,
    request: DataRequest,
    *,
    reason: DenialReason,
    detail: str | None,
    now: datetime,
) -> bool:
    """Reasons, and the appeal right where the state gives one. After a denied appeal: where to
    complain (the attorney general)."""
    until = appeal_until(request)
    complaint = None
    if request.type == RequestType.appeal:
        complaint = complaint_for(request.state).instruction()
    return _queue(
        db,
        vault,
        request,
        "dsr_denial",
        f"About your privacy request {request.id}",
        now,
        type_label=type_label(request.type),
        reason_text=DENIAL_TEXT[reason],
        detail=detail,
        detail_label="Legal basis" if reason is DenialReason.exemption else "Details",
        appeal_days=Rules(request.rules_snapshot).appeal_days if until else None,
        appeal_until=local_day(request, until) if until else None,
        complaint=complaint,
        status_url=links.url(request.id),
    )
