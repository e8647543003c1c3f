"""The preferences page: a person's consent choices, reached through a link mailed to them.

No password: whoever opens the link has shown that they read mail at the address (the link is
signed, expires after `LINK_DAYS` days, and carries the address encrypted under the vault's key
ring, never in clear). Asking for a link answers the same whether or not we know the address,
and a link goes out either way, so the form tells nobody who is a customer. Someone we do not
know can still record choices; their data subject is created only when a choice is recorded.

Each purpose is one yes/no question with both answers shown alike, so that withdrawing is as
easy as giving. A `Sec-GPC: 1` header on the page (opening or saving it) turns off sale, sharing
and targeted advertising for the person, and the page says so; where the signal overrode a "yes"
the person gave earlier, the page shows the conflict instead of hiding it (11 CCR 7025(c)(3):
the signal wins, the business may tell the consumer).

CSRF: a signed double-submit cookie, as on the request pages (no session here either).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record as audit
from privacyops.consent import ledger
from privacyops.consent.api import evidence, gpc_signal, policy_version
from privacyops.consent.ledger import Decision, Method, Who
from privacyops.consent.purposes import BY_KEY, GPC_PURPOSES, PURPOSES, Purpose
from privacyops.dsr.pages import PostedForm, mask_email
from privacyops.dsr.service import manifest_of, policy_in_force
from privacyops.errors import NotFound, PrivacyOpsError
from privacyops.identity.normalize import normalize_email
from privacyops.models.consent import ConsentRecord
from privacyops.models.dsr import DataRequest
from privacyops.models.types import utcnow
from privacyops.notify.outbox import queue_rendered, render_mail
from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from privacyops.web import csrf
from privacyops.web.auth import client_address
from privacyops.web.deps import AppSettings, AppVault, DbSession
from privacyops.web.limits import public_page_limited
from privacyops.web.templating import error_page, long_date, render_page

router = APIRouter(tags=["preferences"], include_in_schema=False)

LINK_DAYS = 7
MAX_TOKEN = 1024
HISTORY_SHOWN = 20
_LINK_SALT = "privacyops.consent.preferences"
_LINK_CONTEXT = "consent:preferences:email"
_FORMS = csrf.FormGuard(
    "privacyops_preferences_csrf", "/preferences", "privacyops.consent.preferences-csrf"
)
_RATE_SCOPE = "consent-preferences"
PAGE_TITLE = "Your privacy choices"
GPC_WORDING = "Sec-GPC: 1 received on the preferences page"
SHOWN: tuple[Purpose, ...] = tuple(p for p in PURPOSES if p.on_preferences_page)

# How a decision came about, in the person's words.
METHOD_TEXT: dict[str, str] = {
    Method.preference_page: "your choice on this page",
    Method.banner: "your choice in our cookie banner",
    Method.gpc: "your browser's Global Privacy Control signal",
    Method.unsubscribe_link: "the unsubscribe link in one of our emails",
    Method.sms_reply: "your reply to one of our text messages",
    Method.staff: "our privacy team, at your request",
    Method.api: "our systems, at your request",
    Method.import_: "our earlier records",
}


# --- the link --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceLinks:
    """Signed, expiring links to one address's preferences page."""

    secret_key: str
    public_url: str
    max_age_days: int = LINK_DAYS

    @classmethod
    def from_settings(cls, settings: Settings) -> PreferenceLinks:
        return cls(load_secret_key(settings), settings.public_url.rstrip("/"))

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=_LINK_SALT)

    def token(self, vault: Vault, email: str) -> str:
        return str(self._serializer().dumps({"e": vault.encrypt_secret(email, _LINK_CONTEXT)}))

    def url(self, token: str) -> str:
        return f"{self.public_url}/preferences/{token}"

    def read(self, vault: Vault, token: str) -> str | None:
        """The address a token stands for; None when it is not ours, was altered or expired."""
        if not token or len(token) > MAX_TOKEN:
            return None
        try:
            data = self._serializer().loads(token, max_age=self.max_age_days * 86400)
        except BadData:  # a bad signature, an expired one, a payload that is not JSON
            return None
        if not isinstance(data, dict) or not isinstance(data.get("e"), str):
            return None
        try:
            return vault.decrypt_secret(data["e"], _LINK_CONTEXT)
        except Exception:  # a ciphertext from another key ring or context: not ours
            return None


# --- plumbing ------------------------------------------------------------------------------------


@dataclass
class Errors:
    """What the templates' error summary reads: messages by element id, and general ones."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def _private(response: Response) -> Response:
    """A person's choices: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _site_name(db: Session) -> str | None:
    try:
        return manifest_of(policy_in_force(db, utcnow())).organization.name
    except NotFound:
        return None


def _not_found() -> Response:
    """One page for a link that is altered, expired or not ours: it reveals nothing."""
    return _private(
        error_page(
            404,
            "Link not found",
            "This link is not valid or has expired. Ask for a new link to manage your choices.",
            home_href="/preferences",
            home_label="Ask for a new link",
        )
    )


def _not_ready() -> Response:
    return _private(
        error_page(
            503,
            "Preferences are not open yet",
            "No privacy policy is in force yet, so choices cannot be managed here. Please try "
            "again later.",
        )
    )


def _form_expired() -> Response:
    return _private(
        error_page(
            403,
            "This form has expired",
            "This form has expired or was not sent from this site. Go back, reload the page and "
            "send it again.",
            home_href="/preferences",
            home_label="Manage your privacy choices",
        )
    )


def _too_large() -> Response:
    return _private(
        error_page(413, "This form is too long", "The form you sent is longer than we accept.")
    )


def _refused(request: Request, settings: Settings, form: dict[str, str] | None) -> Response | None:
    """The refusal of a POST, if any: rate limit, body size, then the form's CSRF token."""
    limited = public_page_limited(request, settings, _RATE_SCOPE)
    if limited is not None:
        return limited
    return _refused_form(request, settings, form)


def _refused_form(
    request: Request, settings: Settings, form: dict[str, str] | None
) -> Response | None:
    if form is None:
        return _too_large()
    if not _FORMS.ok(settings, request, form):
        return _form_expired()
    return None


# --- asking for a link -------------------------------------------------------------------------


def _link_form(
    request: Request,
    settings: Settings,
    site_name: str,
    *,
    email: str = "",
    errors: Errors | None = None,
    sent: bool = False,
    status: int = 200,
) -> Response:
    token = _FORMS.token(settings, request)
    page = render_page(
        "consent/preferences_link.html",
        status,
        site_name=site_name,
        page_title=PAGE_TITLE,
        email=email,
        errors=errors or Errors(),
        sent=sent,
        days=LINK_DAYS,
        csrf_token=token,
    )
    _private(page)
    return _FORMS.attach(page, settings, token)


@router.get("/preferences", response_class=HTMLResponse)
def ask_for_link(
    request: Request, db: DbSession, settings: AppSettings, sent: str | None = None
) -> Response:
    """The form that mails a link; after sending, the same page says to check the mail."""
    site_name = _site_name(db)
    if site_name is None:
        return _not_ready()
    return _link_form(request, settings, site_name, sent=sent is not None)


@router.post("/preferences/link", response_class=HTMLResponse)
def send_link(
    request: Request, db: DbSession, vault: AppVault, settings: AppSettings, form: PostedForm
) -> Response:
    """Mail a link to the address given, known to us or not, and answer the same either way:
    nobody learns from this form who is a customer. Nothing is looked up and nothing is
    recorded about the address besides the queued mail."""
    refused = _refused(request, settings, form)
    if refused is not None:
        return refused
    assert form is not None
    site_name = _site_name(db)
    if site_name is None:
        return _not_ready()
    typed = form.get("email", "")[:320]
    try:
        email = normalize_email(typed)
    except PrivacyOpsError:
        errors = Errors(by_field={"email": "Enter your email address, like name@example.com."})
        return _link_form(request, settings, site_name, email=typed, errors=errors, status=422)
    links = PreferenceLinks.from_settings(settings)
    subject = f"Your link to manage your privacy choices with {site_name}"
    rendered = render_mail(
        "consent_link",
        subject,
        site_name=site_name,
        link=links.url(links.token(vault, email)),
        days=links.max_age_days,
    )
    queue_rendered(db, vault, to=email, rendered=rendered, template="consent_link")
    return _private(RedirectResponse("/preferences?sent=1", status_code=303))


# --- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceView:
    key: str
    field_id: str
    name: str
    description: str
    allowed: bool  # the current decision
    selected: bool  # the radio checked: the posted answer after an error, else current
    status: str  # how the current decision came about
    default: str  # what happens without a choice
    held_by_gpc: bool  # the browser's signal keeps it off while it is sent


@dataclass(frozen=True)
class ConflictView:
    key: str
    name: str
    allowed_on: str


@dataclass(frozen=True)
class HistoryItem:
    on: str
    name: str
    choice: str
    how: str


def field_id(key: str) -> str:
    """The form element of a purpose (ids without dots: they read as classes in selectors)."""
    return "p-" + key.replace(".", "-").replace("_", "-")


def _day(moment: datetime | None) -> str:
    return long_date(moment.date()) if moment is not None else ""


def _in_sentence(name: str) -> str:
    """A purpose's name inside a sentence: "Sale of ..." reads "sale of ..." there."""
    return name[:1].lower() + name[1:]


def _default_text(purpose: Purpose, state: str | None) -> str:
    if purpose.default_allowed(state):
        return "Without a choice from you: yes, until you say no."
    return "Without a choice from you: no, unless you say yes."


def _status_text(decision: Decision) -> str:
    answer = "Yes" if decision.allowed else "No"
    if decision.record_id is None:
        return f"{answer}, by default: you have not made a choice yet."
    how = METHOD_TEXT.get(decision.method or "", "a recorded choice")
    return f"{answer}: {how}, {_day(decision.recorded_at)}."


def _state_of(db: Session, who: Who | None) -> str | None:
    """The person's state, from their latest rights request (it moves the defaults: sensitive
    information is a right to limit in California, an opt-in elsewhere)."""
    if who is None or who.subject_id is None:
        return None
    return db.scalar(
        select(DataRequest.state)
        .where(DataRequest.subject_id == who.subject_id)
        .order_by(DataRequest.received_at.desc())
        .limit(1)
    )


def _choices(
    db: Session,
    who: Who | None,
    state: str | None,
    gpc: bool,
    posted: dict[str, bool] | None,
) -> list[ChoiceView]:
    views = []
    for purpose in SHOWN:
        decision = ledger.decide(db, who, purpose.key, state)
        selected = (posted or {}).get(purpose.key, decision.allowed)
        views.append(
            ChoiceView(
                key=purpose.key,
                field_id=field_id(purpose.key),
                name=purpose.name,
                description=purpose.description,
                allowed=decision.allowed,
                selected=selected,
                status=_status_text(decision),
                default=_default_text(purpose, state),
                held_by_gpc=gpc and purpose.gpc,
            )
        )
    return views


def _conflicts(db: Session, who: Who | None, state: str | None) -> list[ConflictView]:
    """The purposes a GPC signal turned off over a "yes" the person gave (the ledger keeps a
    pointer to that yes on the signal's record)."""
    found = []
    for purpose in SHOWN:
        if not purpose.gpc or who is None:
            continue
        decision = ledger.decide(db, who, purpose.key, state)
        if decision.conflict_with is None or decision.method != Method.gpc:
            continue
        given = db.get(ConsentRecord, decision.conflict_with)
        on = _day(given.recorded_at) if given is not None else ""
        found.append(ConflictView(purpose.key, _in_sentence(purpose.name), on))
    return found


def _history(db: Session, who: Who | None) -> list[HistoryItem]:
    if who is None:
        return []
    return [
        HistoryItem(
            on=_day(entry.recorded_at),
            name=BY_KEY[entry.purpose].name if entry.purpose in BY_KEY else entry.purpose,
            choice="Yes" if entry.allowed else "No",
            how=METHOD_TEXT.get(entry.method, entry.method),
        )
        for entry in ledger.history(db, who, HISTORY_SHOWN)
    ]


@dataclass(frozen=True)
class _Visit:
    """The link's address and what we know of its person."""

    email: str
    who: Who | None
    state: str | None


def _visit(db: Session, vault: Vault, settings: Settings, token: str) -> _Visit | None:
    email = PreferenceLinks.from_settings(settings).read(vault, token)
    if email is None:
        return None
    who = ledger.person(db, vault, "email", email, "email")
    return _Visit(email, who, _state_of(db, who))


def _page(
    request: Request,
    db: Session,
    settings: Settings,
    visit: _Visit,
    token: str,
    *,
    gpc: bool,
    saved: bool = False,
    errors: Errors | None = None,
    posted: dict[str, bool] | None = None,
    status: int = 200,
) -> Response:
    csrf_token = _FORMS.token(settings, request)
    page = render_page(
        "consent/preferences.html",
        status,
        site_name=_site_name(db) or "Privacy Center",
        page_title=PAGE_TITLE,
        masked_email=mask_email(visit.email),
        token=token,
        choices=_choices(db, visit.who, visit.state, gpc, posted),
        conflicts=_conflicts(db, visit.who, visit.state),
        history=_history(db, visit.who),
        gpc=gpc,
        gpc_names=[_in_sentence(p.name) for p in SHOWN if p.gpc],
        saved=saved,
        errors=errors or Errors(),
        csrf_token=csrf_token,
    )
    _private(page)
    return _FORMS.attach(page, settings, csrf_token)


def _audit_choice(
    db: Session, vault: Vault, request: Request, who: Who, entry: ConsentRecord
) -> None:
    # A person's choice is personal data: its recording is kept in the audit trail too.
    audit(
        db,
        AuditAction.consent_recorded,
        actor="consumer",
        subject=vault.subject_hash(str(who.subject_id)),
        client=client_address(request),
        details={"purpose": entry.purpose, "allowed": entry.allowed, "method": entry.method},
    )


def _honour_gpc(
    db: Session, vault: Vault, settings: Settings, request: Request, visit: _Visit
) -> _Visit:
    """Record the opt-out a `Sec-GPC: 1` header means for the link's person (11 CCR 7025;
    the UOOM states), creating their record if we did not know them: the signal is a choice
    made for them, and the link shows the address is theirs.

    Only purposes still allowed are recorded (the ledger's own `record_gpc` would append a
    record on every visit after an explicit "no"); a "yes" the signal overrides keeps a pointer
    to it, which the page shows as a conflict."""
    pending = [k for k in GPC_PURPOSES if ledger.decide(db, visit.who, k, visit.state).allowed]
    if not pending:
        return visit
    who = visit.who or ledger.person_or_new(db, vault, "email", visit.email, "email")
    version = policy_version(db)
    proof = evidence(settings, request, GPC_WORDING)
    for key in pending:
        entry = ledger.record(
            db,
            who,
            key,
            False,
            Method.gpc,
            actor="consumer",
            policy_version=version,
            state=visit.state,
            evidence=proof,
        )
        _audit_choice(db, vault, request, who, entry)
    return _Visit(visit.email, who, visit.state)


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    token: str,
    saved: str | None = None,
) -> Response:
    """The person's choices. Opening the page changes nothing (mail scanners open links),
    except that a Global Privacy Control signal sent by the browser is honoured."""
    visit = _visit(db, vault, settings, token)
    if visit is None:
        return _not_found()
    gpc = gpc_signal(request)
    if gpc:
        visit = _honour_gpc(db, vault, settings, request, visit)
    return _page(request, db, settings, visit, token, gpc=gpc, saved=saved is not None)


def _posted_choices(form: dict[str, str]) -> tuple[dict[str, bool], Errors]:
    """The yes/no answers in the form; a purpose left out keeps its current decision."""
    chosen: dict[str, bool] = {}
    errors = Errors()
    for purpose in SHOWN:
        value = form.get(purpose.key)
        if value is None:
            continue
        if value not in ("yes", "no"):
            errors.by_field[field_id(purpose.key)] = f"Choose Yes or No for {purpose.name}."
            continue
        chosen[purpose.key] = value == "yes"
    keep_off = form.get("keep_off")
    if keep_off is not None and not (keep_off in BY_KEY and BY_KEY[keep_off].gpc):
        errors.general.append("keep_off: not a choice a Global Privacy Control signal turns off.")
    return chosen, errors


def _wording(purpose: Purpose, allowed: bool, state: str | None) -> str:
    """The evidence kept with a choice: the question as the page showed it, and the answer."""
    answer = "Yes" if allowed else "No"
    return (
        f"{PAGE_TITLE}. {purpose.name}: {purpose.description} "
        f"{_default_text(purpose, state)} Answer: {answer}."
    )


def _changes(
    db: Session, visit: _Visit, chosen: dict[str, bool], keep_off: str | None
) -> list[tuple[Purpose, bool]]:
    """The answers that differ from the current decision (an untouched default stays a
    default, not a choice), plus "keep it off" after a GPC conflict, which turns the signal's
    "no" into the person's own."""
    changes = [
        (BY_KEY[key], allowed)
        for key, allowed in chosen.items()
        if ledger.decide(db, visit.who, key, visit.state).allowed != allowed
    ]
    if keep_off is not None and keep_off not in {p.key for p, _ in changes}:
        changes.append((BY_KEY[keep_off], False))
    return changes


@router.post("/preferences/{token}", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    db: DbSession,
    vault: AppVault,
    settings: AppSettings,
    token: str,
    form: PostedForm,
) -> Response:
    """Record each changed answer as the person's own choice (method `preference_page`, the
    wording shown, the policy version in force), then show the page again. Giving and
    withdrawing take the same step. A GPC signal on the same request is honoured after the
    answers: while the browser sends it, the signal wins (11 CCR 7025(c)(3))."""
    limited = public_page_limited(request, settings, _RATE_SCOPE)
    if limited is not None:
        return limited
    visit = _visit(db, vault, settings, token)
    if visit is None:
        return _not_found()
    refused = _refused_form(request, settings, form)
    if refused is not None:
        return refused
    assert form is not None
    gpc = gpc_signal(request)
    chosen, errors = _posted_choices(form)
    if errors:
        return _page(
            request, db, settings, visit, token, gpc=gpc, errors=errors, posted=chosen, status=422
        )
    changes = _changes(db, visit, chosen, form.get("keep_off"))
    if changes:
        visit = _record_choices(db, vault, settings, request, visit, changes)
    if gpc:
        _honour_gpc(db, vault, settings, request, visit)
    return _private(RedirectResponse(f"/preferences/{token}?saved=1", status_code=303))


def _record_choices(
    db: Session,
    vault: Vault,
    settings: Settings,
    request: Request,
    visit: _Visit,
    changes: list[tuple[Purpose, bool]],
) -> _Visit:
    who = visit.who or ledger.person_or_new(db, vault, "email", visit.email, "email")
    version = policy_version(db)
    for purpose, allowed in changes:
        entry = ledger.record(
            db,
            who,
            purpose.key,
            allowed,
            Method.preference_page,
            actor="consumer",
            policy_version=version,
            state=visit.state,
            evidence=evidence(settings, request, _wording(purpose, allowed, visit.state)),
        )
        _audit_choice(db, vault, request, who, entry)
    return _Visit(visit.email, who, visit.state)


__all__ = ["PreferenceLinks", "router"]
