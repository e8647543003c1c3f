"""Console pages: login, logout and the dashboard.

Login answers the same message for an unknown email and a wrong password; it is rate-limited
per client address before anything else is looked at, and protected by a signed double-submit
CSRF cookie because there is no session yet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from privacyops.ratelimit import RateLimiter
from privacyops.settings import Settings
from privacyops.staff import service
from privacyops.staff.console import abilities, render_console
from privacyops.staff.permissions import Permission
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
from privacyops.web.templating import error_page

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
def dashboard(principal: Annotated[Principal, require(Permission.console_use)]) -> Response:
    return render_console(
        "admin/dashboard.html",
        principal,
        nav_current="dashboard",
        page_title="Dashboard",
        abilities=abilities(principal),
    )
