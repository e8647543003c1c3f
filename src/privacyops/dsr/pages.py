"""Privacy Center pages for rights requests: the form, verification, and the status page.

Thin adapters over the same service calls as the JSON API; every answer is HTML, errors
included. The pages work without JavaScript: the form's steps (state, then request type, then
details) are plain GET forms, each answered by the server.

What opens what, so that a reference alone opens nothing:
- submitting the form hands this browser a *continue token* (signed, bound to the request,
  `CONTINUE_DAYS` days) that opens only the verification page: the masked address, the code
  field and the resend button. It never opens the status page, because whoever submits a
  request has not shown that the address is theirs.
- a correct code hands over the *status token* (`StatusLinks`), the same one the mails carry.
  Opt-outs need no verification, so their submitter goes straight to the status page.

CSRF: the public forms have no session, so they use a signed double-submit cookie, like the
staff login form: the form's hidden token must equal the cookie's, and the cookie must be one
this app signed recently (a forged cookie does not pass). Public writes share the JSON API's
rate limit per client address.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ParamSpec
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from privacyops.dsr import downloads, notices, service
from privacyops.dsr.api import PayloadTooLarge, limited_body
from privacyops.dsr.attorneys_general import complaint_for
from privacyops.dsr.records import load
from privacyops.dsr.schemas import AgentIn, CorrectionIn, RequestIn
from privacyops.dsr.status import CLOSED, DENIAL_TEXT, DenialReason, Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound, PrivacyOpsError
from privacyops.models.dsr import DataRequest
from privacyops.models.types import utcnow
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.presenter import contact_view
from privacyops.policy.states import US_STATES
from privacyops.policy.yamlsource import path_to_field
from privacyops.rights.jurisdictions import RightScope
from privacyops.rights.rules import OPT_OUTS, Decision, RequestType, decide_all
from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings
from privacyops.vault.service import SubjectShredded
from privacyops.web import csrf
from privacyops.web.auth import client_address
from privacyops.web.deps import AppSettings, AppVault, DbSession
from privacyops.web.limits import public_page_limited
from privacyops.web.templating import error_page, render_page, sentence

router = APIRouter(tags=["request pages"], include_in_schema=False)

OTHER = "OTHER"  # the state select's "Other / outside the US"
CORRECTION_ROWS = 3
CONTINUE_DAYS = 7
# A request form may take a while to fill in; past a day it must be reloaded.
_FORMS = csrf.FormGuard("privacyops_request_csrf", "/requests", "privacyops.dsr.form-csrf")
_CONTINUE_SALT = "privacyops.dsr.continue"
_REFERENCE = re.compile(r"R-[0-9A-Z]{8,12}")
_CORRECTION_FIELD = re.compile(r"corrections\[(\d+)\]\.(field|value)")
# The extra data points of the stronger verification standard (11 CCR 7062).
EXTRA_POINTS: tuple[tuple[str, str, str], ...] = (
    ("order_number", "A recent order number", "off"),
    ("card_last4", "The last 4 digits of a payment card you used with us", "off"),
    ("postal_address", "The postal address on your account", "street-address"),
    ("birth_date", "Your date of birth", "bday"),
)

TYPE_HELP: dict[str, str] = {
    RequestType.confirm: "Ask whether we hold and use personal information about you.",
    RequestType.access: "Learn what personal information we hold about you: the categories, "
    "or the specific pieces.",
    RequestType.portability: "Get your information in a file you can take to another service.",
    RequestType.deletion: "Ask us to delete personal information about you, except what the "
    "law requires us to keep.",
    RequestType.correction: "Ask us to correct information about you that is inaccurate.",
    RequestType.opt_out_sale: "Tell us not to sell your personal information.",
    RequestType.opt_out_sharing: "Tell us not to share your information for advertising based "
    "on your activity on other sites and apps.",
    RequestType.opt_out_targeted_advertising: "Tell us not to show you ads based on your "
    "activity over time and across other sites and apps.",
    RequestType.opt_out_profiling: "Tell us not to use your information for automated "
    "decisions with legal or similarly significant effects on you.",
    RequestType.limit_sensitive: "Limit our use of your sensitive information to what is "
    "needed to serve you.",
    RequestType.appeal: "Ask us to reconsider our decision on an earlier request (you need its "
    "reference, R-...).",
}
SCOPE_NOTES: dict[str, str] = {
    RightScope.provided_by_consumer: "Under your state's law this covers the information you "
    "gave us yourself.",
    RightScope.provided_or_obtained: "Under your state's law this covers the information you "
    "gave us and information we obtained about you.",
    RightScope.copy_or_summary: "Under your state's law we may give a copy or a representative "
    "summary.",
}
STATUS_TEXT: dict[str, tuple[str, str]] = {
    Status.received: ("Received", "We have your request and will start on it shortly."),
    Status.awaiting_verification: (
        "Waiting for you to confirm",
        "Enter the 6-digit code we sent to your email address. We can act on the request only "
        "once you confirm it is yours.",
    ),
    Status.verified: ("We are handling your request", "We will start on it shortly."),
    Status.in_progress: (
        "We are handling your request",
        "We are working on it and will write to you when it is done.",
    ),
    Status.awaiting_review: (
        "We are handling your request",
        "Our privacy team is reviewing it. We will write to you when it is done.",
    ),
    Status.needs_attention: (
        "We are handling your request",
        "Our privacy team is looking into it; we may contact you if we need anything.",
    ),
    Status.completed: ("Complete", "We have finished handling your request."),
    Status.denied: ("We could not act on your request", "The reasons are below."),
    Status.canceled: ("Canceled", "We are not handling this request any more."),
}
EVENT_TEXT: dict[str, str] = {
    Status.received: "We received your request.",
    Status.awaiting_verification: "We sent you a code to confirm the request.",
    Status.verified: "The request was confirmed.",
    Status.in_progress: "We started working on your request.",
    Status.awaiting_review: "Our privacy team started reviewing your request.",
    Status.needs_attention: "Our privacy team is looking into your request.",
    Status.completed: "We completed your request.",
    Status.denied: "We decided that we cannot act on your request.",
    Status.canceled: "The request was canceled.",
    "extended": "We extended the time to answer.",
    "code_resent": "We sent you a new code.",
}
_OPT_OUT_DONE = "We have applied your choice."
# As in the completion notice (notices._OUTCOMES, private there).
_OUTCOMES: dict[str, str] = {
    RequestType.confirm: "We have answered whether we process your information.",
    RequestType.access: "Your information is ready to see.",
    RequestType.portability: "Your copy of your information is ready.",
    RequestType.deletion: "We have deleted your information, except what the law requires us "
    "to keep.",
    RequestType.correction: "We have corrected your information.",
    RequestType.appeal: "We have reconsidered our decision.",
}


# --- plumbing ------------------------------------------------------------------------------------


def _now() -> datetime:
    return utcnow()


async def posted_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, read with the JSON API's body cap (None past it: the page answers
    413). Repeated fields keep their first value; a body not url-encoded reads as empty."""
    content_type = request.headers.get("content-type", "")
    try:
        raw = await limited_body(request)
    except PayloadTooLarge:
        return None
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return {}
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=100)
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


PostedForm = Annotated[dict[str, str] | None, Depends(posted_form)]


P = ParamSpec("P")


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(load_secret_key(settings), salt=salt)


def continue_token(settings: Settings, request_id: str) -> str:
    return str(_serializer(settings, _CONTINUE_SALT).dumps({"r": request_id}))


def _continue_ok(settings: Settings, request_id: str, token: str | None) -> bool:
    if not token or len(token) > 512:
        return False
    try:
        data = _serializer(settings, _CONTINUE_SALT).loads(token, max_age=CONTINUE_DAYS * 86400)
    except BadData:
        return False
    return isinstance(data, dict) and data.get("r") == request_id


def _links(settings: Settings) -> StatusLinks:
    return StatusLinks.from_settings(settings)


def status_path(settings: Settings, request_id: str) -> str:
    """The status page, relative: the browser stays on the host it came from."""
    return f"/requests/{request_id}?token={quote(_links(settings).token(request_id))}"


def verify_path(settings: Settings, request_id: str, **extra: str) -> str:
    query = urlencode({"token": continue_token(settings, request_id), **extra})
    return f"/requests/{request_id}/verify?{query}"


def _private(response: Response) -> Response:
    """Pages about one request: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect(location: str) -> Response:
    return _private(RedirectResponse(location, status_code=303))


def _not_found() -> HTMLResponse:
    """One page for an unknown reference, a wrong token and an expired one: it reveals nothing."""
    return error_page(
        404,
        "Request not found",
        "We found no request for this link. It may have expired: use the link in the latest "
        "message we sent you, or make a new request.",
        home_href="/requests/new",
        home_label="Make a request",
    )


def _rate_limited(request: Request, settings: Settings) -> HTMLResponse | None:
    return public_page_limited(request, settings, "dsr-public")


def _too_large() -> HTMLResponse:
    return error_page(
        413,
        "This form is too long",
        "The form you sent is longer than we accept. Shorten the longest fields and try again.",
        home_href="/requests/new",
        home_label="Make a request",
    )


def _form_expired() -> HTMLResponse:
    return error_page(
        403,
        "This form has expired",
        "This form has expired or was not sent from this site. Go back, reload the page and "
        "send it again.",
        home_href="/requests/new",
        home_label="Make a request",
    )


@dataclass(frozen=True)
class _Policy:
    version: Any
    manifest: PolicyManifest

    @property
    def site_name(self) -> str:
        return self.manifest.organization.name


def _policy(db: Session, now: datetime) -> _Policy | None:
    try:
        version = service.policy_in_force(db, now)
    except NotFound:
        return None
    return _Policy(version, service.manifest_of(version))


def _not_ready() -> HTMLResponse:
    return error_page(
        503,
        "Requests are not open yet",
        "No privacy policy is in force yet, so requests cannot be made here. Please try again "
        "later.",
    )


def mask_email(address: str) -> str:
    """`a***@example.com`: enough to recognise one's own address, not to learn someone's."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _days_text(decision: Decision) -> str:
    deadline = decision.deadline
    if deadline is None:
        return ""
    unit = "business days" if deadline.business_days else "days"
    text = f"We answer within {deadline.days} {unit}"
    if deadline.extension_days:
        text += (
            f" (we may extend this once, by up to {deadline.extension_days} days, and tell you why)"
        )
    return text + "."


def _state_options() -> list[tuple[str, str]]:
    states = sorted(US_STATES.items(), key=lambda item: item[1])
    return [*states, (OTHER, "Other / outside the US")]


def _known_state(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if code in US_STATES or code == OTHER else None


# --- the form: step 1 (state), step 2 (type), step 3 (details) -----------------------------------


@dataclass
class FormValues:
    """What the person typed, kept to fill the form again after an error."""

    email: str = ""
    phone: str = ""
    loyalty_id: str = ""
    details: str = ""
    access_scope: str = "categories"
    access_format: str = ""
    sensitive: bool = False
    corrections: list[tuple[str, str]] = field(default_factory=lambda: [("", "")] * CORRECTION_ROWS)
    appeal_of: str = ""
    acting: str = "self"
    agent_name: str = ""
    agent_email: str = ""
    agent_proof: str = ""
    form_key: str = ""

    @classmethod
    def from_form(cls, form: dict[str, str]) -> FormValues:
        def get(name: str) -> str:
            return form.get(name, "")

        return cls(
            email=get("email"),
            phone=get("phone"),
            loyalty_id=get("loyalty_id"),
            details=get("details"),
            access_scope="specific" if get("access_scope") == "specific" else "categories",
            access_format=get("access_format"),
            sensitive=get("sensitive") == "yes",
            corrections=[
                (get(f"correction_field_{i}"), get(f"correction_value_{i}"))
                for i in range(CORRECTION_ROWS)
            ],
            appeal_of=get("appeal_of"),
            acting="agent" if get("acting") == "agent" else "self",
            agent_name=get("agent_name"),
            agent_email=get("agent_email"),
            agent_proof=get("agent_proof"),
            form_key=get("form_key")[:64],
        )

    def request_in(self, request_type: str, state: str) -> RequestIn:
        """The API's input model: the form and the API are checked by the same rules."""
        corrections = [
            CorrectionIn(field=f, value=v) for f, v in self.corrections if f.strip() or v.strip()
        ]
        agent = None
        if self.acting == "agent":
            agent = AgentIn(name=self.agent_name, email=self.agent_email, proof=self.agent_proof)
        return RequestIn(
            type=request_type,
            state=state,
            email=self.email,
            phone=self.phone or None,
            loyalty_id=self.loyalty_id or None,
            details=self.details or None,
            corrections=corrections or None,
            agent=agent,
            specific_pieces=request_type == RequestType.access and self.access_scope == "specific",
            sensitive_deletion=request_type == RequestType.deletion and self.sensitive,
            access_format=self.access_format or None,
            appeal_of=self.appeal_of or None,
        )


def field_id(name: str) -> str | None:
    """The form element a service error names (None: shown at the top of the form only)."""
    match = _CORRECTION_FIELD.fullmatch(name)
    if match is not None:
        return f"correction_{match.group(2)}_{match.group(1)}"
    return {
        "email": "email",
        "phone": "phone",
        "loyalty_id": "loyalty_id",
        "details": "details",
        "specific_pieces": "access_scope",
        "access_format": "access_format",
        "sensitive_deletion": "sensitive",
        "corrections": "corrections",
        "appeal_of": "appeal_of",
        "agent": "agent",
        "agent.name": "agent_name",
        "agent.email": "agent_email",
        "agent.proof": "agent_proof",
        "code": "code",
        "extra_points": "extra_points",
        "declaration_signed": "declaration_signed",
        "signer_name": "signer_name",
    }.get(name)


@dataclass
class Errors:
    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, problem: FieldProblem) -> None:
        target = field_id(problem.field)
        if target is None:
            self.general.append(problem.message)
        elif target not in self.by_field:
            self.by_field[target] = sentence(problem.message)

    @classmethod
    def of(cls, problems: list[FieldProblem], fallback: str) -> Errors:
        errors = cls()
        for problem in problems:
            errors.add(problem)
        if not problems:
            errors.general.append(fallback)
        return errors

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def _validation_problems(exc: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(
            field=path_to_field([p for p in err["loc"] if isinstance(p, str | int)]),
            message="too long" if err.get("type") == "string_too_long" else "invalid value",
        )
        for err in exc.errors()
    ]


@router.get("/requests/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    state: str | None = None,
    type: str | None = None,
    appeal_of: str | None = None,
) -> Response:
    now = _now()
    policy = _policy(db, now)
    if policy is None:
        return _not_ready()
    if state is None:
        return _step_state(policy, error=None)
    code = _known_state(state)
    if code is None:
        return _step_state(policy, error="Choose your state from the list.", status=422)
    if code == OTHER:
        return _outside_us(policy)
    decisions = decide_all(code, now, policy.manifest)
    if type is None:
        return _step_type(policy, code, decisions, error=None)
    chosen = next((d for d in decisions if d.request_type.value == type), None)
    if chosen is None or not chosen.allowed:
        error = chosen.reason if chosen is not None else "Choose one of the requests below."
        return _step_type(policy, code, decisions, error=error, status=422)
    values = FormValues(appeal_of=(appeal_of or "")[:20], form_key=secrets.token_urlsafe(24))
    return _step_details(request, settings, policy, chosen, values, Errors())


def _step_state(policy: _Policy, error: str | None, status: int = 200) -> HTMLResponse:
    return render_page(
        "requests/new_state.html",
        status,
        site_name=policy.site_name,
        page_title="Make a privacy request",
        nav_current="requests",
        states=_state_options(),
        error=error,
    )


def _outside_us(policy: _Policy) -> HTMLResponse:
    everyone = policy.manifest.rights.everyone
    return render_page(
        "requests/outside_us.html",
        site_name=policy.site_name,
        page_title="Make a privacy request",
        nav_current="requests",
        rights=[notices.type_label(str(r)) for r in everyone if str(r) in TYPE_HELP],
        contact=contact_view(policy.manifest),
    )


@dataclass(frozen=True)
class TypeChoice:
    value: str
    label: str
    help: str
    due: str
    reason: str
    note: str | None


def _choice(decision: Decision) -> TypeChoice:
    value = decision.request_type.value
    return TypeChoice(
        value=value,
        label=notices.type_label(value),
        help=TYPE_HELP[value],
        due=_days_text(decision),
        reason=decision.reason,
        note=SCOPE_NOTES.get(decision.scope),
    )


def _step_type(
    policy: _Policy,
    state: str,
    decisions: list[Decision],
    error: str | None,
    status: int = 200,
) -> HTMLResponse:
    return render_page(
        "requests/new_type.html",
        status,
        site_name=policy.site_name,
        page_title="Make a privacy request",
        nav_current="requests",
        state=state,
        state_name=US_STATES[state],
        available=[_choice(d) for d in decisions if d.allowed],
        unavailable=[_choice(d) for d in decisions if not d.allowed],
        error=error,
    )


def _step_details(
    request: Request,
    settings: Settings,
    policy: _Policy,
    decision: Decision,
    values: FormValues,
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    token = _FORMS.token(settings, request)
    request_type = decision.request_type
    response = render_page(
        "requests/new_details.html",
        status,
        site_name=policy.site_name,
        page_title=f"{notices.type_label(request_type)}: your details",
        nav_current="requests",
        state=decision.state,
        state_name=US_STATES[decision.state],
        choice=_choice(decision),
        type=request_type.value,
        is_opt_out=request_type in OPT_OUTS,
        agent_allowed=decision.agent_allowed,
        values=values,
        errors=errors,
        csrf_token=token,
        correction_rows=range(CORRECTION_ROWS),
    )
    _private(response)
    return _FORMS.attach(response, settings, token)


@router.post("/requests/new", response_class=HTMLResponse)
def submit_request(
    request: Request, db: DbSession, vault: AppVault, settings: AppSettings, form: PostedForm
) -> Response:
    refused = _rate_limited(request, settings)
    if refused is not None:
        return refused
    if form is None:
        return _too_large()
    if not _FORMS.ok(settings, request, form):
        return _form_expired()
    now = _now()
    policy = _policy(db, now)
    if policy is None:
        return _not_ready()
    state = _known_state(form.get("state"))
    if state is None or state == OTHER:
        return _step_state(policy, error="Choose your state from the list.", status=422)
    decisions = {d.request_type.value: d for d in decide_all(state, now, policy.manifest)}
    chosen = decisions.get(form.get("type", ""))
    if chosen is None:
        return _step_type(
            policy, state, list(decisions.values()), "Choose one of the requests below.", 422
        )
    values = FormValues.from_form(form)
    try:
        submitted = service.submit(
            db,
            vault,
            policy.version,
            values.request_in(chosen.request_type.value, state),
            "web",
            now,
            links=_links(settings),
            idempotency_key=values.form_key or None,
            client=client_address(request),
        )
    except ValidationError as exc:
        errors = Errors.of(_validation_problems(exc), "Check the form.")
        return _step_details(request, settings, policy, chosen, values, errors, 422)
    except Conflict:
        db.rollback()
        errors = Errors(general=["This form was already sent. Start a new request."])
        return _step_details(request, settings, policy, chosen, values, errors, 409)
    except PrivacyOpsError as exc:
        db.rollback()  # nothing of a refused request is kept
        errors = Errors.of(exc.problems, exc.message)
        return _step_details(request, settings, policy, chosen, values, errors, 422)
    found = submitted.request
    if found.verification == "none":
        return _redirect(status_path(settings, found.id))
    return _redirect(verify_path(settings, found.id))


# --- verification --------------------------------------------------------------------------------


def _continue_refused(
    request: Request,
    db: Session,
    settings: Settings,
    request_id: str,
    form: dict[str, str] | None,
) -> Response | None:
    """The refusal for a POST that continues a submitted request (verify, resend), if any:
    rate limit, body size, the browser's continue token, then the form's CSRF token."""
    refused = _rate_limited(request, settings)
    if refused is not None:
        return refused
    if form is None:
        return _too_large()
    found = _request_or_none(db, request_id)
    if found is None or not _continue_ok(settings, request_id, form.get("token", "")):
        return _not_found()
    if not _FORMS.ok(settings, request, form):
        return _form_expired()
    return None


def _request_or_none(db: Session, request_id: str) -> DataRequest | None:
    if not _REFERENCE.fullmatch(request_id):
        return None
    try:
        return load(db, request_id)
    except NotFound:
        return None


def _verify_page(
    request: Request,
    db: Session,
    vault: Any,
    settings: Settings,
    found: DataRequest,
    *,
    token: str,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    policy = _policy(db, found.received_at)
    email = notices.requester_email(db, vault, found)
    csrf_token = _FORMS.token(settings, request)
    response = render_page(
        "requests/verify.html",
        status,
        site_name=policy.site_name if policy is not None else "Privacy Center",
        page_title="Confirm your request",
        nav_current="requests",
        request=found,
        type_label=notices.type_label(found.type),
        masked_email=mask_email(email) if email else None,
        awaiting=found.status == Status.awaiting_verification,
        closed=found.status in CLOSED,
        high=found.verification == "high",
        extra_points=EXTRA_POINTS,
        minutes=notices.CODE_MINUTES,
        token=token,
        csrf_token=csrf_token,
        errors=errors or Errors(),
        values=form or {},
        message=message,
    )
    _private(response)
    return _FORMS.attach(response, settings, csrf_token)


@router.get("/requests/{request_id}/verify", response_class=HTMLResponse)
def verify_form(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    token: str | None = None,
    sent: str | None = None,
) -> Response:
    found = _request_or_none(db, request_id)
    if found is None or token is None or not _continue_ok(settings, request_id, token):
        return _not_found()
    message = "We sent you a new code." if sent else None
    return _verify_page(request, db, vault, settings, found, token=token, message=message)


@router.post("/requests/{request_id}/verify", response_class=HTMLResponse)
def verify_submit(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    form: PostedForm,
) -> Response:
    refused = _continue_refused(request, db, settings, request_id, form)
    if refused is not None:
        return refused
    assert form is not None
    token = form.get("token", "")
    points = {key: form.get(f"point_{key}", "") for key, _, _ in EXTRA_POINTS}
    try:
        service.verify(
            db,
            vault,
            request_id,
            form.get("code", "")[:300],
            now=_now(),
            extra_points={k: v[:300] for k, v in points.items()},
            declaration_signed=form.get("declaration_signed") == "yes",
            signer_name=form.get("signer_name", "")[:300],
            client=client_address(request),
        )
    except service.CodeRefused as exc:
        # The wrong attempt counts: the page returns normally, so the session commits it.
        return _verify_again(request, db, vault, settings, request_id, token, form, exc)
    except PrivacyOpsError as exc:
        db.rollback()
        return _verify_again(request, db, vault, settings, request_id, token, form, exc)
    return _redirect(status_path(settings, request_id))


def _verify_again(
    request: Request,
    db: Session,
    vault: Any,
    settings: Settings,
    request_id: str,
    token: str,
    form: dict[str, str],
    exc: PrivacyOpsError,
) -> HTMLResponse:
    found = load(db, request_id)
    errors = Errors.of(exc.problems, exc.message)
    status = exc.status_code if isinstance(exc, Conflict | InvalidInput) else 422
    kept = {k: v for k, v in form.items() if k.startswith("point_") or k == "signer_name"}
    return _verify_page(
        request, db, vault, settings, found, token=token, errors=errors, form=kept, status=status
    )


@router.post("/requests/{request_id}/resend", response_class=HTMLResponse)
def resend_code(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    form: PostedForm,
) -> Response:
    refused = _continue_refused(request, db, settings, request_id, form)
    if refused is not None:
        return refused
    assert form is not None
    token = form.get("token", "")
    found = load(db, request_id)
    try:
        service.resend_code(db, vault, request_id, now=_now())
    except service.TooManyRequests as exc:
        db.rollback()
        page = _verify_page(
            request,
            db,
            vault,
            settings,
            found,
            token=token,
            message=None,
            status=429,
            errors=Errors(general=[sentence(exc.message) + "."]),
        )
        if exc.retry_after is not None:
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except PrivacyOpsError as exc:
        db.rollback()
        errors = Errors(general=[sentence(exc.message) + "."])
        return _verify_page(
            request, db, vault, settings, found, token=token, errors=errors, status=409
        )
    return _redirect(verify_path(settings, request_id, sent="1"))


# --- the status page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    on: str
    text: str


def _timeline(found: DataRequest, events: list[service.PublicEvent]) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    for event in events:
        key = event.to_status or event.action
        text = EVENT_TEXT.get(key)
        if text is None:
            continue
        if key == Status.verified and found.verification == "none":
            text = "No confirmation was needed for this request."
        item = TimelineItem(notices.local_day(found, event.at), text)
        if not items or items[-1] != item:
            items.append(item)
    return items


def _denial_text(reason: str | None) -> str | None:
    try:
        return DENIAL_TEXT[DenialReason(reason)] if reason else None
    except ValueError:
        return None


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_status(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    token: str | None = None,
) -> Response:
    now = _now()
    if not _REFERENCE.fullmatch(request_id):
        return _not_found()
    try:
        view = service.requester_view(db, vault, _links(settings), request_id, token, now=now)
    except NotFound:
        return _not_found()
    found = view.request
    policy = _policy(db, found.received_at)
    headline, next_step = STATUS_TEXT.get(found.status, (found.status, ""))
    reason = found.denial_reason
    response = render_page(
        "requests/status.html",
        site_name=policy.site_name if policy is not None else "Privacy Center",
        page_title=f"Your request {found.id}",
        nav_current="requests",
        request=found,
        type_label=notices.type_label(found.type),
        state_name=US_STATES.get(found.state, found.state),
        received_on=notices.local_day(found, found.received_at),
        due_on=notices.local_day(found, found.due_at),
        extended_on=(
            notices.local_day(found, found.extended_due_at) if found.extended_due_at else None
        ),
        headline=headline,
        next_step=next_step,
        timeline=_timeline(found, view.events),
        denial_text=_denial_text(reason),
        denial_detail=view.denial_detail,
        details=view.details,
        detail_label="Legal basis" if reason == DenialReason.exemption else "Details",
        outcome=_OUTCOMES.get(found.type, _OPT_OUT_DONE),
        appeal_until=notices.local_day(found, view.appeal_until) if view.appeal_until else None,
        appeal_open=view.appeal_open,
        appeal_href="/requests/new?"
        + urlencode({"state": found.state, "type": "appeal", "appeal_of": found.id}),
        appealed_by=view.appealed_by,
        downloads=downloads.download_links(
            db, downloads.PackageLinks.from_settings(settings), found.id, now
        ),
        package_days=settings.package_days,
        complaint=(
            complaint_for(found.state).instruction()
            if found.type == RequestType.appeal and found.status == Status.denied
            else None
        ),
    )
    return _private(response)


@router.get("/requests/{request_id}/package/{fmt}")
def download_package(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    request_id: str,
    fmt: str,
    token: str | None = None,
) -> Response:
    """The requester's access package, through the signed link of the completion mail. A
    download, not a page: the browser saves it rather than showing it on our site."""
    limited = _rate_limited(request, settings)
    if limited is not None:
        return limited
    links = downloads.PackageLinks.from_settings(settings)
    if not _REFERENCE.fullmatch(request_id) or fmt not in downloads.FORMATS:
        return _not_found()
    found = _request_or_none(db, request_id)
    if found is None or not links.check(request_id, fmt, token, settings.package_days):
        return _not_found()
    try:
        spec, content = downloads.download(
            db, vault, found, fmt, _now(), client=client_address(request)
        )
    except (NotFound, SubjectShredded):
        return _not_found()
    filename = f"{request_id}-your-information.{spec.extension}"
    response = Response(
        content,
        media_type=spec.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return _private(response)
