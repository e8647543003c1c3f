"""Consent over HTTP: decisions and the suppression filter for the retailer's systems (staff API
tokens with `consent.read`), unsubscribe headers and SMS replies (`consent.record`), the
one-click unsubscribe endpoint (RFC 8058: no cookies, no login) and `/.well-known/gpc.json`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import Entry as AuditEntry
from privacyops.audit.service import record as audit
from privacyops.consent import banner, ledger, people, receipts, sms
from privacyops.consent.gpp import decode, usnat_for_choices
from privacyops.consent.ledger import Evidence, Method, Who
from privacyops.consent.purposes import (
    COOKIE_CLASSES,
    EMAIL,
    GPC_PURPOSES,
    SALE,
    SMS,
    TARGETED,
    cookie_purpose,
    purpose,
)
from privacyops.consent.tokens import UnsubscribeLinks
from privacyops.db import reading, unit_of_work
from privacyops.dsr.service import manifest_of, policy_in_force
from privacyops.errors import FieldProblem, InvalidInput, NotFound
from privacyops.identity.normalize import IdentityKind
from privacyops.models.types import utcnow
from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings
from privacyops.staff.permissions import Permission
from privacyops.web.auth import AdminRouter, Principal, client_address, require, require_reading
from privacyops.web.deps import AppAuditQueue, AppSettings, AppVault, DbSession
from privacyops.web.templating import error_page, render_page

public = APIRouter(tags=["consent"])
staff = AdminRouter(prefix="/api/v1/consent", tags=["consent"])

Asker = Annotated[Principal, require(Permission.consent_read)]
Recorder = Annotated[Principal, require(Permission.consent_record)]
MAX_FILTER_BYTES = 200 * 1024 * 1024  # a million addresses are about 25 MB


def gpc_signal(request: Request) -> bool:
    """`Sec-GPC` counts only when exactly "1"; with several, any "1" counts (GPC spec)."""
    return any(value.strip() == "1" for value in request.headers.getlist("sec-gpc"))


def client_hash(settings: Settings, request: Request) -> str | None:
    address = client_address(request)
    if not address:
        return None
    key = load_secret_key(settings).encode()
    return hmac.new(key, f"client:{address}".encode(), hashlib.sha256).hexdigest()


def evidence(settings: Settings, request: Request, wording: str | None = None) -> Evidence:
    agent = request.headers.get("user-agent")
    return Evidence(wording, client_hash(settings, request), agent)


def policy_version(db: Session) -> int | None:
    return ledger.policy_version_at(db, utcnow())


# -- decisions ---------------------------------------------------------------------------------


class DecisionOut(BaseModel):
    purpose: str
    allowed: bool
    reason: str = Field(description="Which record decided, or which default applied and why.")
    record_id: int | None
    method: str | None
    conflict_with: int | None = Field(
        None, description="An explicit opt-in a later GPC signal overrode (shown to the person)."
    )


@staff.get("/decision", response_model=DecisionOut)
def decision(
    principal: Annotated[Principal, require_reading(Permission.consent_read)],
    request: Request,
    vault: AppVault,
    audit_log: AppAuditQueue,
    purpose_key: Annotated[str, Query(alias="purpose", max_length=200)],
    email: Annotated[str | None, Query(max_length=254)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> DecisionOut:
    """May this person be contacted or targeted for this purpose? Before every email, text or
    ad audience: the answer names the record that decided, or the default and its rule."""
    who = people.one_identity(email, phone)
    with reading(request.app.state.session_factory, snapshot=False) as db:
        found, subject_id = ledger.decide_for(
            db, vault, who.kind.value, who.value, purpose_key, state
        )
    # A person's choice is personal data: who asked about whom is kept (policy section 7),
    # committed before the answer leaves, in a transaction shared with concurrent askers.
    audit_log.record(
        AuditEntry(
            AuditAction.consent_decided,
            actor=principal.actor,
            subject=vault.subject_hash(subject_id) if subject_id else None,
            client=client_address(request),
            details={"purpose": found.purpose, "allowed": found.allowed},
        )
    )
    return DecisionOut(
        purpose=found.purpose,
        allowed=found.allowed,
        reason=found.reason,
        record_id=found.record_id,
        method=found.method,
        conflict_with=found.conflict_with,
    )


@staff.post(
    "/filter",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The contactable values."}},
)
async def suppression_filter(
    principal: Asker,
    request: Request,
    settings: AppSettings,
    vault: AppVault,
    purpose_key: Annotated[str, Query(alias="purpose", max_length=200)],
    kind: Annotated[Literal["email", "phone"], Query()] = "email",
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> Response:
    """The suppression step before a campaign: POST one email (or phone number) per line as
    text/plain; the answer streams back, one per line, those that may be contacted."""
    ledger.checked_purpose(purpose_key)
    values = await _lines(request)
    factory = request.app.state.session_factory

    def stream() -> Iterator[bytes]:
        with unit_of_work(factory) as db:
            audit(
                db,
                AuditAction.consent_filtered,
                actor=principal.actor,
                client=client_address(request),
                details={"purpose": purpose_key, "kind": kind, "values": len(values)},
            )
        # The answer streams as fast as the caller reads it: no write lock held meanwhile.
        with reading(factory) as db:
            batch: list[str] = []
            allowed = ledger.allowed_contacts(
                db, vault, purpose_key, IdentityKind(kind), values, state
            )
            for value in allowed:
                batch.append(value)
                if len(batch) >= 1000:
                    yield ("\n".join(batch) + "\n").encode()
                    batch = []
            if batch:
                yield ("\n".join(batch) + "\n").encode()

    return StreamingResponse(stream(), media_type="text/plain; charset=utf-8")


async def _lines(request: Request) -> list[str]:
    received = 0
    pending = b""
    values: list[str] = []
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_FILTER_BYTES:
            message = f"at most {MAX_FILTER_BYTES // (1024 * 1024)} MB per request"
            raise InvalidInput(f"body: {message}", [FieldProblem("body", message)])
        pending += chunk
        *complete, pending = pending.split(b"\n")
        values.extend(_clean(line) for line in complete)
    values.append(_clean(pending))
    return [value for value in values if value]


def _clean(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").strip()


@staff.get("/records/{record_id}/receipt")
def consent_receipt(
    principal: Asker,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    record_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
) -> dict[str, Any]:
    """One ledger record as a Kantara v1.1 consent receipt (the proof a partner or an auditor
    asks for)."""
    from privacyops.models.consent import ConsentRecord
    from privacyops.models.policy import PolicyVersion

    entry = db.get(ConsentRecord, record_id)
    if entry is None:
        raise NotFound(f"no consent record {record_id}")
    version = None
    if entry.policy_version is not None:
        version = db.scalar(
            select(PolicyVersion).where(PolicyVersion.number == entry.policy_version)
        )
    manifest = manifest_of(version or policy_in_force(db, utcnow()))
    audit(
        db,
        AuditAction.consent_decided,
        actor=principal.actor,
        subject=vault.subject_hash(entry.subject_id) if entry.subject_id else None,
        client=client_address(request),
        details={"receipt": record_id},
    )
    return receipts.receipt(entry, manifest, settings.public_url.rstrip("/"))


# -- unsubscribe headers for the retailer's mailer ----------------------------------------------


class HeadersIn(BaseModel):
    email: str = Field(max_length=254)
    list: str = Field("marketing", max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


def unsubscribe_links(settings: Settings) -> UnsubscribeLinks:
    return UnsubscribeLinks(load_secret_key(settings), settings.public_url.rstrip("/"))


@staff.post("/unsubscribe-headers")
def unsubscribe_headers(
    principal: Recorder, db: DbSession, vault: AppVault, settings: AppSettings, body: HeadersIn
) -> dict[str, str]:
    """The headers a marketing mail carries (RFC 8058 section 3.1): one HTTPS URL with an
    opaque token, a mailto, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`."""
    from privacyops.identity.normalize import normalize_email

    email = normalize_email(body.email)
    links = unsubscribe_links(settings)
    token = links.token(vault, email, body.list)
    manifest = manifest_of(policy_in_force(db, utcnow()))
    mailto = f"mailto:{manifest.organization.email}?subject=unsubscribe%20{body.list}"
    return {
        "List-Unsubscribe": f"<{links.url(token)}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# -- SMS replies -------------------------------------------------------------------------------


class SmsIn(BaseModel):
    from_: str = Field(alias="from", max_length=40, description="The sender's phone number.")
    body: str = Field(max_length=1600)


class SmsOut(BaseModel):
    action: sms.SmsAction
    reply: str | None
    record_id: int | None


@staff.post("/sms", response_model=SmsOut)
def sms_reply(
    principal: Recorder,
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    body: SmsIn,
) -> SmsOut:
    """The SMS gateway's webhook for replies: STOP and its synonyms revoke marketing texts,
    START/UNSTOP give them back, HELP answers; each is a ledger record. Answer `reply` to the
    sender."""
    action = sms.interpret(body.body)
    manifest = manifest_of(policy_in_force(db, utcnow()))
    entry = None
    if action in (sms.SmsAction.opt_out, sms.SmsAction.opt_in):
        who = ledger.person_or_new(db, vault, "phone", body.from_, "from")
        entry = ledger.record(
            db,
            who,
            SMS,
            action is sms.SmsAction.opt_in,
            Method.sms_reply,
            actor=principal.actor,
            policy_version=policy_version(db),
            evidence=evidence(settings, request, f"SMS reply: {body.body[:160]}"),
        )
    text = sms.reply(action, manifest.organization.name, manifest.organization.email)
    return SmsOut(action=action, reply=text, record_id=entry.id if entry else None)


# -- one-click unsubscribe (public) --------------------------------------------------------------


@public.get("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(
    request: Request, db: DbSession, vault: AppVault, settings: AppSettings, token: str
) -> Response:
    """What a person (or a mail scanner) sees when opening the link: a button, and nothing
    changed (RFC 8058 section 3.2: a GET must not unsubscribe)."""
    found = unsubscribe_links(settings).read(vault, token)
    if found is None:
        return _unknown_link()
    return _no_store(
        render_page(
            "consent/unsubscribe.html",
            page_title="Unsubscribe",
            list_key=found.list_key,
            masked=_masked(found.email),
            done=False,
        )
    )


@public.post("/u/{token}", include_in_schema=False)
async def unsubscribe(
    request: Request, db: DbSession, vault: AppVault, settings: AppSettings, token: str
) -> Response:
    """The one-click POST: `List-Unsubscribe=One-Click`, form-urlencoded or multipart, no cookies
    and no login; unsubscribes at once and answers 200 without a redirect (RFC 8058 3.2)."""
    found = unsubscribe_links(settings).read(vault, token)
    if found is None:
        return _unknown_link()
    form = await request.form()
    if form.get("List-Unsubscribe") != "One-Click":
        return _no_store(
            error_page(400, "Not an unsubscribe", "The request did not ask to unsubscribe.")
        )
    who = ledger.person_or_new(db, vault, "email", found.email, "email")
    entry = ledger.record(
        db,
        who,
        EMAIL,
        False,
        Method.unsubscribe_link,
        actor="consumer",
        policy_version=policy_version(db),
        evidence=evidence(settings, request, "List-Unsubscribe=One-Click"),
        list_key=found.list_key,
    )
    audit(
        db,
        AuditAction.consent_recorded,
        actor="consumer",
        subject=vault.subject_hash(str(who.subject_id)),
        details={"purpose": EMAIL, "allowed": False, "method": "unsubscribe_link"},
    )
    page = render_page(
        "consent/unsubscribe.html",
        page_title="Unsubscribed",
        list_key=found.list_key,
        masked=_masked(found.email),
        done=True,
        record_id=entry.id,
    )
    return _no_store(page)


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def _unknown_link() -> HTMLResponse:
    return _no_store(
        error_page(
            404,
            "Link not found",
            "This unsubscribe link is not valid. Use the link in the latest message we sent you.",
        )
    )


def _no_store(response: HTMLResponse) -> HTMLResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


# -- a browser's choices (the banner's backend; public) ------------------------------------------

BrowserId = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class BrowserChoicesIn(BaseModel):
    browser_id: BrowserId = Field(description="The banner's random first-party id.")
    choices: dict[Literal["functional", "analytics", "advertising"], bool] = Field(
        default_factory=dict, description="Optional cookie classes allowed (true) or refused."
    )
    gpc: bool = Field(False, description="`navigator.globalPrivacyControl` as the banner saw it.")
    wording: str | None = Field(None, max_length=5000, description="The banner text shown.")


class BrowserChoicesOut(BaseModel):
    browser_id: str
    choices: dict[str, bool]
    gpc_honoured: bool = Field(
        description="A GPC signal opted this browser out of sale, sharing and targeted advertising."
    )
    conflicts: list[str] = Field(
        default_factory=list, description="Purposes where GPC overrode an earlier explicit yes."
    )
    purposes: dict[str, bool] = Field(
        default_factory=dict,
        description="Sale, sharing and targeted advertising (and advertising cookies): allowed "
        "(true) or opted out, by GPC or by refusing advertising cookies.",
    )


def _browser_view(db: Session, browser_id: str, gpc: bool) -> BrowserChoicesOut:

    who = Who(browser_id=browser_id)
    choices = {
        name: ledger.decide(db, who, cookie_purpose(name)).allowed for name in COOKIE_CLASSES
    }
    found = [ledger.decide(db, who, key) for key in GPC_PURPOSES]
    honoured = any(d.method == Method.gpc for d in found)
    conflicts = [d.purpose for d in found if d.conflict_with is not None]
    return BrowserChoicesOut(
        browser_id=browser_id,
        choices=choices,
        gpc_honoured=honoured or gpc,
        conflicts=conflicts,
        purposes={d.purpose: d.allowed for d in found},
    )


@public.post("/api/v1/consent/browser", response_model=BrowserChoicesOut)
def browser_choices(
    request: Request, db: DbSession, settings: AppSettings, body: BrowserChoicesIn
) -> BrowserChoicesOut:
    """Record the banner's choices for a browser. A `Sec-GPC: 1` header or the banner's own
    reading of `navigator.globalPrivacyControl` records the opt-out GPC means, and wins over
    an advertising "yes" (the conflict is recorded and returned)."""
    who = Who(browser_id=body.browser_id)
    version = policy_version(db)
    proof = evidence(settings, request, body.wording)
    for name, allowed in body.choices.items():
        ledger.record(
            db,
            who,
            cookie_purpose(name),
            allowed,
            Method.banner,
            actor="consumer",
            policy_version=version,
            evidence=proof,
        )
    gpc = body.gpc or gpc_signal(request)
    if gpc:
        ledger.record_gpc(db, who, actor="consumer", policy_version=version, evidence=proof)
    banner.follow_advertising_choice(
        db,
        who,
        body.choices.get(banner.ADVERTISING),
        gpc=gpc,
        policy_version=version,
        evidence=proof,
    )
    return _browser_view(db, body.browser_id, gpc)


@public.get("/api/v1/consent/browser/{browser_id}", response_model=BrowserChoicesOut)
def browser_state(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    browser_id: Annotated[
        str, PathParam(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    ],
) -> BrowserChoicesOut:
    """The browser's current choices; a `Sec-GPC: 1` header on this request is honoured too."""
    gpc = gpc_signal(request)
    if gpc:
        ledger.record_gpc(
            db,
            Who(browser_id=browser_id),
            actor="consumer",
            policy_version=policy_version(db),
            evidence=evidence(settings, request),
        )
    return _browser_view(db, browser_id, gpc)


class GppOut(BaseModel):
    gpp: str = Field(description="The IAB GPP string for the browser's choices.")
    gpp_sid: list[int] = Field(description="The section ids in the string.")


@public.get("/api/v1/consent/gpp", response_model=GppOut)
def gpp_string(
    request: Request,
    db: DbSession,
    browser_id: Annotated[str, Query(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> GppOut:
    """The GPP string an ad partner receives for this browser: usnat (and the state's section
    when known), opted out where the browser refused or sent GPC (reference notes, 4.3)."""
    who = Who(browser_id=browser_id)
    sale, targeted = (ledger.decide(db, who, key) for key in (SALE, TARGETED))
    gpc = gpc_signal(request) or Method.gpc in (sale.method, targeted.method)
    text = usnat_for_choices(
        not sale.allowed, not targeted.allowed, not targeted.allowed, gpc, state=state
    )
    return GppOut(gpp=text, gpp_sid=list(decode(text).section_ids))


# -- Global Privacy Control support resource ---------------------------------------------------


@public.get("/.well-known/gpc.json", include_in_schema=False)
def gpc_json(db: DbSession) -> JSONResponse:
    """Site-wide support for GPC (RFC 8615 well-known resource; GPC spec): we abide by it."""
    try:
        updated: date = policy_in_force(db, utcnow()).effective_on
    except NotFound:
        updated = utcnow().date()
    return JSONResponse({"gpc": True, "lastUpdate": updated.isoformat()})


__all__ = ["public", "purpose", "staff"]
