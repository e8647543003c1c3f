"""Console pages: login, logout, the dashboard, staff management and your own account.

Login answers the same message for an unknown email and a wrong password; it is rate-limited
per client address before anything else is looked at, and protected by a signed double-submit
CSRF cookie because there is no session yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound
from privacyops.models.staff import StaffMember
from privacyops.models.types import utcnow
from privacyops.ratelimit import RateLimiter
from privacyops.settings import Settings
from privacyops.staff import repository, service
from privacyops.staff.console import abilities, render_console, role_abilities
from privacyops.staff.permissions import Permission, Role, within
from privacyops.web import csrf
from privacyops.web.auth import (
    HOME_PATH,
    LOGIN_PATH,
    SESSION_COOKIE,
    AdminRouter,
    OptionalStaff,
    Principal,
    SuppliedCsrf,
    client_address,
    require,
    safe_next,
)
from privacyops.web.deps import AppSettings, DbSession
from privacyops.web.templating import error_page, sentence

router = AdminRouter(tags=["console"], include_in_schema=False)


def get_login_limiter(request: Request) -> RateLimiter:
    """The app's login limiter (create_app puts it on app.state; tests put their own)."""
    limiter: RateLimiter = request.app.state.login_limiter
    return limiter


LoginLimiter = Annotated[RateLimiter, Depends(get_login_limiter)]


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_form(
    request: Request, settings: AppSettings, principal: OptionalStaff, next: str = ""
) -> Response:
    target = safe_next(next)
    if principal is not None and principal.session is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, settings, target)


@router.post(LOGIN_PATH, response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    limiter: LoginLimiter,
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    client = client_address(request)
    decision = limiter.hit(f"login:{client or 'unknown'}", settings.rate_limit_login)
    if not decision.allowed:
        refused = error_page(
            429,
            "Too many login attempts",
            f"Too many login attempts from your address. Try again in {decision.retry_after} "
            "seconds.",
        )
        refused.headers["Retry-After"] = str(decision.retry_after)
        return refused
    if not csrf.login_token_ok(settings, request.cookies.get(csrf.LOGIN_COOKIE), csrf_token):
        return error_page(
            403, "Not allowed", "The login form has expired. Reload the page and try again."
        )
    target = safe_next(next)
    try:
        issued = service.login(
            db,
            settings,
            email,
            password,
            client=client,
            user_agent=request.headers.get("user-agent"),
            previous_token=request.cookies.get(SESSION_COOKIE),
        )
    except service.LoginRefused as refused_login:
        return _login_page(
            request, settings, target, message=refused_login.message, email=email, status=401
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, issued.token, settings)
    response.delete_cookie(csrf.LOGIN_COOKIE, path=LOGIN_PATH)
    return response


def _login_page(
    request: Request,
    settings: Settings,
    target: str,
    *,
    message: str | None = None,
    email: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = csrf.login_token(settings, request.cookies.get(csrf.LOGIN_COOKIE))
    response = render_console(
        "admin/login.html",
        None,
        status_code=status,
        page_title="Log in",
        login_csrf=token,
        next_path=target,
        message=message,
        email=email[:254],
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=csrf.LOGIN_MAX_AGE,
        path=LOGIN_PATH,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site posts carry it), Secure
    behind https. No Max-Age: the browser forgets it when closed; the server ends it anyway."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


@router.post("/admin/logout")
def logout(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    principal: OptionalStaff,
    supplied: SuppliedCsrf,
) -> Response:
    if principal is not None and principal.session is not None:
        if not csrf.same(principal.session.csrf_token, supplied):
            return error_page(403, "Not allowed", "This form has expired. Reload the page.")
        service.logout(db, principal.session, client=client_address(request))
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )
    return response


@router.get(HOME_PATH, response_class=HTMLResponse)
def dashboard(
    principal: Annotated[Principal, require(Permission.console_use)], db: DbSession
) -> Response:
    from privacyops.consent.propagation_console import overdue_for  # builds on this one too
    from privacyops.dsr.console import dashboard_counts  # the requests domain builds on this one

    return render_console(
        "admin/dashboard.html",
        principal,
        nav_current="dashboard",
        page_title="Dashboard",
        abilities=abilities(principal),
        request_counts=dashboard_counts(db, principal),
        propagations_overdue=overdue_for(db, principal),
    )


# --- staff management -------------------------------------------------------------------------
#
# Post, redirect, get: a change answers 303 to a page that says what was done (`done` and `id` in
# the query string name one of a fixed set of messages, so a link cannot make the page say
# anything else). A refused change re-renders the page with the message next to the field.

STAFF_PATH = "/admin/staff"
ACCOUNT_PATH = "/admin/account"
PAGE_SIZE = 50
_MAX_OFFSET = 10**9

StaffReader = Annotated[Principal, require(Permission.staff_read)]
StaffManager = Annotated[Principal, require(Permission.staff_manage)]
Console = Annotated[Principal, require(Permission.console_use)]
TokenOwner = Annotated[Principal, require(Permission.tokens_manage_own)]
StaffId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FormText = Annotated[str, Form(max_length=1000)]
FormSecret = Annotated[str, Form(max_length=2000)]
Errors = dict[str, list[str]]


def _by_field(problems: list[FieldProblem]) -> Errors:
    found: Errors = {}
    for problem in problems:
        found.setdefault(problem.field, []).append(sentence(problem.message))
    return found


def _required(values: dict[str, str], messages: dict[str, str]) -> list[FieldProblem]:
    return [FieldProblem(field, messages[field]) for field in messages if not values[field].strip()]


def _without(problems: list[FieldProblem], fields: set[str]) -> list[FieldProblem]:
    return [p for p in problems if p.field not in fields]


def _int(value: str, default: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        return default
    return min(max(number, 0), _MAX_OFFSET)


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _not_found(what: str) -> HTMLResponse:
    return error_page(404, "Not found", f"There is no such {what}.")


def _staff_flash(db: Session, done: str, ident: str) -> str | None:
    staff = repository.get_staff(db, _int(ident)) if ident else None
    if staff is None:
        return None
    messages = {
        "created": f"Created {staff.email} with the role {staff.role}.",
        "role": f"{staff.email} now has the role {staff.role}. Their sessions have ended.",
        "disabled": f"Disabled {staff.email}. Their sessions have ended and their API tokens "
        "no longer work.",
        "enabled": f"Enabled {staff.email}.",
    }
    return messages.get(done)


def _staff_page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    offset: int = 0,
    status: int = 200,
    flash: str | None = None,
    form: dict[str, str] | None = None,
    errors: Errors | None = None,
    refusal: tuple[int, str, str] | None = None,
) -> HTMLResponse:
    page = service.list_staff(
        db, offset=offset, limit=PAGE_SIZE, actor=principal.actor, client=client_address(request)
    )
    return render_console(
        "admin/staff_list.html",
        principal,
        status_code=status,
        nav_current="staff",
        page_title="Staff",
        page=page,
        roles=list(Role),
        role_abilities=role_abilities(),
        may_manage=principal.may(Permission.staff_manage),
        now=utcnow(),
        flash=flash,
        form=form or {"email": "", "display_name": "", "role": ""},
        errors=errors or {},
        refusal=refusal,
    )


@router.get(STAFF_PATH, response_class=HTMLResponse)
def staff_list(
    request: Request,
    db: DbSession,
    principal: StaffReader,
    offset: str = "0",
    done: str = "",
    ident: Annotated[str, Query(alias="id")] = "",
) -> Response:
    """Staff accounts; each view is recorded (`staff.listed`) by the service."""
    flash = _staff_flash(db, done, ident) if done else None
    return _staff_page(request, db, principal, offset=_int(offset), flash=flash)


@router.post(STAFF_PATH, response_class=HTMLResponse)
def staff_create(
    request: Request,
    db: DbSession,
    principal: StaffManager,
    email: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    password: FormSecret = "",
    password_confirm: FormSecret = "",
) -> Response:
    values = {"email": email, "display_name": display_name, "role": role, "password": password}
    problems = _required(
        values,
        {
            "email": "enter an email address",
            "role": "choose a role",
            "password": "enter a password",
        },
    )
    problems += _without(
        service.new_staff_problems(
            email=email, role=role, password=password, display_name=display_name
        ),
        {p.field for p in problems},
    )
    if password and password != password_confirm:
        problems.append(FieldProblem("password_confirm", "does not match the password"))
    staff = None
    if not problems:
        try:
            staff = service.create_staff(
                db,
                email=email,
                role=role,
                password=password,
                display_name=display_name,
                actor=principal.actor,
                client=client_address(request),
            )
        except (InvalidInput, Conflict) as refused:
            problems = refused.problems or [FieldProblem("email", refused.message)]
    if staff is None:
        db.rollback()
        kept = {"email": email, "display_name": display_name, "role": role}
        return _staff_page(
            request, db, principal, status=422, form=kept, errors=_by_field(problems)
        )
    return _see(f"{STAFF_PATH}?done=created&id={staff.id}#main")


def _staff_change(
    request: Request,
    db: Session,
    principal: Principal,
    staff_id: int,
    done: str,
    change: Callable[[StaffMember], None],
) -> Response:
    """Apply one change to one account; the service's refusal (the last admin, an unknown role)
    is shown on the staff page, next to the account."""
    staff = repository.get_staff(db, staff_id)
    if staff is None:
        return _not_found("staff member")
    try:
        change(staff)
    except (InvalidInput, Conflict) as refused:
        db.rollback()
        message = refused.problems[0].message if refused.problems else refused.message
        return _staff_page(
            request,
            db,
            principal,
            status=refused.status_code,
            refusal=(staff_id, staff.email, sentence(message).rstrip(".") + "."),
        )
    return _see(f"{STAFF_PATH}?done={done}&id={staff_id}")


@router.post(STAFF_PATH + "/{staff_id}/role", response_class=HTMLResponse)
def staff_set_role(
    request: Request,
    db: DbSession,
    principal: StaffManager,
    staff_id: StaffId,
    role: FormText = "",
) -> Response:
    def change(staff: StaffMember) -> None:
        service.set_role(db, staff, role, actor=principal.actor, client=client_address(request))

    return _staff_change(request, db, principal, staff_id, "role", change)


@router.post(STAFF_PATH + "/{staff_id}/disable", response_class=HTMLResponse)
def staff_disable(
    request: Request, db: DbSession, principal: StaffManager, staff_id: StaffId
) -> Response:
    def change(staff: StaffMember) -> None:
        service.disable(db, staff, actor=principal.actor, client=client_address(request))

    return _staff_change(request, db, principal, staff_id, "disabled", change)


@router.post(STAFF_PATH + "/{staff_id}/enable", response_class=HTMLResponse)
def staff_enable(
    request: Request, db: DbSession, principal: StaffManager, staff_id: StaffId
) -> Response:
    def change(staff: StaffMember) -> None:
        service.enable(db, staff, actor=principal.actor, client=client_address(request))

    return _staff_change(request, db, principal, staff_id, "enabled", change)


# --- your account -----------------------------------------------------------------------------


def _account_flash(db: Session, principal: Principal, done: str, ident: str) -> str | None:
    if done == "password":
        return "Your password was changed. Your other sessions have ended."
    if done == "revoked" and ident:
        token = repository.get_token(db, _int(ident))
        if token is not None and token.staff_id == principal.staff.id:
            return f"Revoked the API token “{token.name}” ({token.prefix}…). It no longer works."
    return None


def token_scopes(principal: Principal) -> list[Role]:
    """The roles a new token may act with: none beyond the caller's (a token's own scope)."""
    return [role for role in Role if within(role, principal.role)]


def _account_page(
    db: Session,
    principal: Principal,
    *,
    status: int = 200,
    flash: str | None = None,
    password_errors: Errors | None = None,
    token_form: dict[str, str] | None = None,
    token_errors: Errors | None = None,
) -> HTMLResponse:
    return render_console(
        "admin/account.html",
        principal,
        status_code=status,
        nav_current="account",
        page_title="Your account",
        flash=flash,
        tokens=service.tokens_of(db, principal.staff),
        scopes=token_scopes(principal),
        may_manage_tokens=principal.may(Permission.tokens_manage_own),
        password_errors=password_errors or {},
        token_form=token_form or {"name": "", "role": principal.role.value},
        token_errors=token_errors or {},
    )


@router.get(ACCOUNT_PATH, response_class=HTMLResponse)
def account(
    db: DbSession,
    principal: Console,
    done: str = "",
    ident: Annotated[str, Query(alias="id")] = "",
) -> Response:
    return _account_page(db, principal, flash=_account_flash(db, principal, done, ident))


@router.post(ACCOUNT_PATH + "/password", response_class=HTMLResponse)
def account_password(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    limiter: LoginLimiter,
    principal: Console,
    current_password: FormSecret = "",
    new_password: FormSecret = "",
    new_password_confirm: FormSecret = "",
) -> Response:
    """Guessing the current password from a session left open is held to the login's rate."""
    decision = limiter.hit(f"password:{principal.staff.id}", settings.rate_limit_login)
    if not decision.allowed:
        refused = error_page(
            429,
            "Too many attempts",
            f"Too many password changes. Try again in {decision.retry_after} seconds.",
        )
        refused.headers["Retry-After"] = str(decision.retry_after)
        return refused
    values = {"current_password": current_password, "new_password": new_password}
    problems = _required(
        values,
        {"current_password": "enter your current password", "new_password": "enter a new password"},
    )
    if new_password and new_password != new_password_confirm:
        problems.append(FieldProblem("new_password_confirm", "does not match the new password"))
    if not problems:
        try:
            service.change_own_password(
                db,
                principal.staff,
                current_password,
                new_password,
                actor=principal.actor,
                client=client_address(request),
            )
        except InvalidInput as refused_change:
            problems = refused_change.problems
    if problems:
        db.rollback()
        return _account_page(db, principal, status=422, password_errors=_by_field(problems))
    response = _see(f"{ACCOUNT_PATH}?done=password#main")
    if principal.session is not None:
        # Every session ended with the change; this browser goes on in a fresh one.
        issued = service.start_session(
            db,
            principal.staff,
            client=client_address(request),
            user_agent=request.headers.get("user-agent"),
        )
        set_session_cookie(response, issued.token, settings)
    return response


@router.post(ACCOUNT_PATH + "/tokens", response_class=HTMLResponse)
def account_token_create(
    request: Request,
    db: DbSession,
    principal: TokenOwner,
    name: Annotated[str, Form(max_length=1000)] = "",
    role: FormText = "",
) -> Response:
    """The token's value is on this answer only (no redirect: it must never be in a URL or be
    shown again); the page says so. Staff pages are never cached (see web.security)."""
    kept = {"name": name, "role": role}
    problems = _required(kept, {"name": "enter a name", "role": "choose a scope"})
    issued = None
    if not problems:
        try:
            issued = service.issue_token(
                db,
                principal.staff,
                name=name,
                role=role,
                acting_role=principal.role,
                actor=principal.actor,
                client=client_address(request),
            )
        except (InvalidInput, Conflict) as refused:
            problems = refused.problems or [FieldProblem("name", refused.message)]
    if issued is None:
        db.rollback()
        return _account_page(
            db, principal, status=422, token_form=kept, token_errors=_by_field(problems)
        )
    return render_console(
        "admin/account_token.html",
        principal,
        status_code=201,
        nav_current="account",
        page_title="New API token",
        token=issued.token,
        plaintext=issued.plaintext,
    )


@router.post(ACCOUNT_PATH + "/tokens/{token_id}/revoke", response_class=HTMLResponse)
def account_token_revoke(
    request: Request, db: DbSession, principal: TokenOwner, token_id: TokenId
) -> Response:
    try:
        token = service.get_token(db, token_id, owner=principal.staff)
    except NotFound:
        return _not_found("API token")
    service.revoke_token(db, token, actor=principal.actor, client=client_address(request))
    return _see(f"{ACCOUNT_PATH}?done=revoked&id={token.id}")
