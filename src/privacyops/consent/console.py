"""Staff console pages for a person's consent: look a person up, see their decisions, records,
GPC conflicts and the opt-outs passed on to partners, and record a choice they made by phone,
by email or at a till (`Method.staff`, with their words).

The lookup is POSTed and answered with a redirect to the person's page under their pseudonymous
id, so an email or phone number never lands in an address bar, a browser history or an access
log. Someone nobody knows is shown the defaults on the POST's own answer, and is created only
when a choice is recorded for them. Thin adapters over `consent.people`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from privacyops.consent import people
from privacyops.consent.ledger import Method, Who
from privacyops.consent.purposes import BY_KEY
from privacyops.errors import InvalidInput, NotFound
from privacyops.models.types import utcnow
from privacyops.policy.states import US_STATES
from privacyops.staff.console import render_console
from privacyops.staff.permissions import Permission
from privacyops.vault.service import Vault
from privacyops.web.auth import AdminRouter, Principal, client_address, require
from privacyops.web.deps import AppVault, DbSession
from privacyops.web.templating import console_not_found, field_errors

router = AdminRouter(tags=["console"], include_in_schema=False)

CONSENT_PATH = "/admin/consent"
Reader = Annotated[Principal, require(Permission.consent_history)]
Recorder = Annotated[Principal, require(Permission.consent_record)]
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=6000)]
Errors = dict[str, str]

METHOD_LABELS: Mapping[str, str] = {
    Method.banner: "Cookie banner",
    Method.gpc: "Global Privacy Control signal",
    Method.unsubscribe_link: "Unsubscribe link",
    Method.sms_reply: "SMS reply",
    Method.preference_page: "Preferences page",
    Method.staff: "Staff, on the person's behalf",
    Method.api: "The retailer's systems (API)",
    Method.import_: "Imported",
}
FLASH = {"recorded": "Recorded. The person's decisions below include it."}


def _split(identity: str) -> tuple[str | None, str | None]:
    """The console's one field as (email, phone): an email has an @."""
    value = identity.strip()
    return (value, None) if "@" in value else (None, value)


# The console asks for one "identity" field; the service names email or phone.
IDENTITY_FIELDS = {"email": "identity", "phone": "identity"}


def _state(value: str) -> str | None:
    state = value.strip().upper()[:2]
    return state if state in US_STATES else None


def _page(
    principal: Principal,
    *,
    status_code: int = 200,
    lookup: Mapping[str, str] | None = None,
    lookup_errors: Errors | None = None,
    person: people.PersonView | None = None,
    identity: str = "",
    choice: Mapping[str, str] | None = None,
    choice_errors: Errors | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    current = {d.record_id for d in person.decisions} if person is not None else set()
    return render_console(
        "admin/consent.html",
        principal,
        status_code=status_code,
        nav_current="consent",
        page_title="Consent",
        lookup=lookup or {"identity": "", "state": ""},
        lookup_errors=lookup_errors or {},
        person=person,
        identity=identity,
        current=current,
        choice=choice or {"purpose": "", "allowed": "", "wording": "", "state": ""},
        choice_errors=choice_errors or {},
        flash=flash,
        purposes=people.PERSON_PURPOSES,
        names={key: chosen.name for key, chosen in BY_KEY.items()},
        states=sorted(US_STATES.items()),
        method_labels=METHOD_LABELS,
        receipt_path=people.receipt_path,
        may_record=principal.may(Permission.consent_record),
    )


@router.get(CONSENT_PATH, response_class=HTMLResponse)
def lookup_form(principal: Reader) -> Response:
    return _page(principal)


@router.post(CONSENT_PATH, response_class=HTMLResponse)
def look_up(
    principal: Reader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    identity: Short = "",
    state: Short = "",
) -> Response:
    """Find a person by email or phone: their page when known; the defaults otherwise (looking
    creates nobody)."""
    lookup = {"identity": identity[:254], "state": state[:2]}
    try:
        who = people.find(db, vault, *_split(identity))
    except InvalidInput as invalid:
        return _page(
            principal,
            status_code=422,
            lookup=lookup,
            lookup_errors=field_errors(invalid.problems, IDENTITY_FIELDS),
        )
    region = _state(state)
    if who is not None:
        suffix = f"?state={region}" if region else ""
        return RedirectResponse(f"{CONSENT_PATH}/people/{who.subject_id}{suffix}", status_code=303)
    return _person_page(
        request, db, vault, principal, None, region, lookup=lookup, identity=lookup["identity"]
    )


def _not_found() -> HTMLResponse:
    return console_not_found(
        "There is no person with this reference.",
        back_to=CONSENT_PATH,
        back_label="Back to consent",
    )


def _person_page(
    request: Request,
    db: Session,
    vault: Vault,
    principal: Principal,
    who: Who | None,
    state: str | None,
    *,
    lookup: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The person's page (or, for someone unknown, the defaults): a view, so recorded."""
    found = people.view(
        db, vault, who, state=state, actor=principal.actor, client=client_address(request)
    )
    lookup = lookup or {"identity": "", "state": state or ""}
    return _page(principal, lookup=lookup, person=found, **context)


@router.get(CONSENT_PATH + "/people/{subject_id}", response_class=HTMLResponse)
def person_page(
    principal: Reader,
    request: Request,
    db: DbSession,
    vault: AppVault,
    subject_id: str,
    state: str = "",
    done: str = "",
) -> Response:
    """A person's consent in full: recorded as `consent.viewed`."""
    try:
        who = people.person_by_id(db, subject_id)
    except NotFound:
        return _not_found()
    return _person_page(
        request, db, vault, principal, who, _state(state), flash=FLASH.get(done[:20])
    )


# It shows the person's page (their history) again: who records here also looks people up.
@router.post(
    CONSENT_PATH + "/choices",
    response_class=HTMLResponse,
    dependencies=[require(Permission.consent_history)],
)
def record_choice(
    principal: Recorder,
    request: Request,
    db: DbSession,
    vault: AppVault,
    subject: Short = "",
    identity: Short = "",
    purpose: Short = "",
    allowed: Short = "",
    wording: Text = "",
    state: Short = "",
) -> Response:
    """Record a choice the person made by phone, email or in a store, in their words, for a
    person looked up (`subject`) or not yet known (`identity`, created now)."""
    kept = {"purpose": purpose, "allowed": allowed, "wording": wording, "state": state[:2]}
    now = utcnow()
    fields: dict[str, Any] = {
        "purpose": purpose,
        "allowed": {"yes": True, "no": False}.get(allowed),
        "recorded_at": None,
        "wording": wording,
        "state": state,
        "now": now,
        "wording_required": True,
    }
    try:
        known = people.person_by_id(db, subject) if subject else None
    except NotFound:
        return _not_found()
    try:
        if known is not None:
            who, choice = known, people.check_choice(**fields)
        else:
            found, choice = people.check_identified_choice(**fields, **_identity(identity))
            who = people.someone(db, vault, found)
    except InvalidInput as invalid:
        errors = field_errors(invalid.problems, IDENTITY_FIELDS)
        if known is not None:
            return _person_page(
                request,
                db,
                vault,
                principal,
                known,
                _state(state),
                status_code=422,
                choice=kept,
                choice_errors=errors,
            )
        return _refused_for_unknown(request, db, vault, principal, identity, kept, errors)
    people.record_choice(
        db,
        vault,
        who,
        choice,
        Method.staff,
        actor=principal.actor,
        client=client_address(request),
        now=now,
    )
    return RedirectResponse(
        f"{CONSENT_PATH}/people/{who.subject_id}?done=recorded", status_code=303
    )


def _identity(identity: str) -> dict[str, str | None]:
    email, phone = _split(identity)
    return {"email": email, "phone": phone}


def _refused_for_unknown(
    request: Request,
    db: Session,
    vault: Vault,
    principal: Principal,
    identity: str,
    kept: Mapping[str, str],
    errors: Errors,
) -> HTMLResponse:
    lookup = {"identity": identity[:254], "state": kept["state"]}
    if "identity" in errors:  # the hidden field was tampered with: start over
        return _page(principal, status_code=422, lookup=lookup, lookup_errors=errors)
    return _person_page(
        request,
        db,
        vault,
        principal,
        None,
        _state(kept["state"]),
        status_code=422,
        lookup=lookup,
        identity=lookup["identity"],
        choice=kept,
        choice_errors=errors,
    )
