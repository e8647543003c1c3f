"""Who is calling, and may they: typed dependencies for every staff page and API route.

Refuse by default. Every route under /admin and /api/v1/admin declares the permission it needs
with `require(...)`; `AdminRouter` refuses at import a route that does not, and `create_app`
checks the whole app again at start (`assert_admin_routes_guarded`), so a route added through
any other router cannot slip in unchecked. Only the login and logout pages are exempt.

Credentials: a session cookie (browsers) or `Authorization: Bearer <token>` (scripts); a token
acts with its own scoped role. Requests that change state with a session cookie must carry the
session's CSRF token; bearer requests cannot be forged by another site and need none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.db import reading, unit_of_work
from privacyops.errors import PrivacyOpsError
from privacyops.models.staff import ApiToken, StaffMember, StaffSession
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.staff import service
from privacyops.staff.permissions import Permission, Role, allows
from privacyops.web import csrf
from privacyops.web.deps import AppSettings, DbSession
from privacyops.web.problems import problem_response
from privacyops.web.security import is_under
from privacyops.web.templating import error_page

SESSION_COOKIE = "privacyops_session"
LOGIN_PATH = "/admin/login"
HOME_PATH = "/admin"
GUARDED_PREFIXES = ("/admin", "/api/v1/admin")
# Routes under the guarded prefixes that need no permission: you cannot be logged in to log in.
PUBLIC_ADMIN_ROUTES = frozenset(
    {("GET", LOGIN_PATH), ("POST", LOGIN_PATH), ("POST", "/admin/logout")}
)


@dataclass(frozen=True)
class Principal:
    """The staff member behind a request and the role they act with (a token's scope)."""

    staff: StaffMember
    role: Role
    session: StaffSession | None = None
    token: ApiToken | None = None

    @property
    def actor(self) -> str:
        """The audit log's actor: the token when one is used, so its use can be traced."""
        if self.token is not None:
            return service.token_ref(self.token)
        return service.staff_ref(self.staff)

    @property
    def via(self) -> str:
        return "token" if self.token is not None else "session"

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session is not None else ""

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class NotAuthenticated(PrivacyOpsError):
    status_code = 401
    title = "Authentication required"


class Forbidden(PrivacyOpsError):
    status_code = 403
    title = "Forbidden"


class CsrfRefused(Forbidden):
    title = "CSRF check failed"


def client_address(request: Request) -> str | None:
    return request.client.host[:64] if request.client else None


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# --- who is calling ---------------------------------------------------------------------------


def optional_principal(request: Request, db: DbSession, settings: AppSettings) -> Principal | None:
    """The caller, or None. A bearer header, when present, is the only credential looked at.

    Its transaction ends here: what the check touched (a token's last use, a session's expiry)
    is kept, and on SQLite the write lock is not held while the request waits for its turn on
    the event loop between dependencies (every other request would queue behind it)."""
    try:
        return _principal(request, db, settings)
    finally:
        db.commit()


def _principal(request: Request, db: Session, settings: Settings) -> Principal | None:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        token = service.verify_token(db, value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return None
        return Principal(staff=token.staff, role=Role(token.role), token=token)
    session = service.session_for(db, settings, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    return Principal(staff=session.staff, role=Role(session.staff.role), session=session)


OptionalStaff = Annotated[Principal | None, Depends(optional_principal)]


async def current_staff(db: DbSession, principal: OptionalStaff) -> Principal:
    # On the event loop (no hop to the thread pool for the common case); a refusal's commit
    # is brief.
    if principal is None:
        _refuse(db, NotAuthenticated("log in or send an API token"))
    return principal


CurrentStaff = Annotated[Principal, Depends(current_staff)]


async def supplied_csrf(request: Request) -> str | None:
    if request.method in csrf.SAFE_METHODS:
        return None
    return await csrf.supplied_token(request)


SuppliedCsrf = Annotated[str | None, Depends(supplied_csrf)]


class Requirement:
    """The dependency `require(permission)` adds; its type is how route checks recognise it."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self, request: Request, db: DbSession, principal: CurrentStaff, supplied: SuppliedCsrf
    ) -> Principal:
        return self.check(request, db, principal, supplied)

    def check(
        self, request: Request, db: Session, principal: Principal, supplied: str | None
    ) -> Principal:
        session = principal.session
        changes_state = request.method not in csrf.SAFE_METHODS
        if session is not None and changes_state and not csrf.same(session.csrf_token, supplied):
            _refuse(db, CsrfRefused("CSRF token missing or wrong; reload the page and retry"))
        if not principal.may(self.permission):
            record(
                db,
                AuditAction.access_denied,
                actor=principal.actor,
                target=f"{request.method} {request.url.path}"[:200],
                client=client_address(request),
                details={"permission": self.permission.value, "role": principal.role.value},
            )
            _refuse(db, Forbidden(f"your role ({principal.role}) may not do this"))
        return principal

    def __repr__(self) -> str:
        return f"require({self.permission.value!r})"


def require(permission: Permission) -> Any:
    """`principal: Annotated[Principal, require(Permission.x)]`, or in a route's `dependencies`.

    Checks, in order: a caller (401 / redirect to login), the CSRF token when a session cookie
    changes state (403), the permission (403, recorded as `access.denied`).
    """
    return Depends(Requirement(permission))


class ReadingRequirement(Requirement):
    """`require_reading(permission)`, for the routes the retailer's systems call before every
    message, which only read (their audit events go through the audit queue): a bearer token
    is checked in a read-only session, so on SQLite the check takes no write lock and callers
    do not queue behind each other; the token's last use is noted in a short transaction of
    its own once a minute. Session cookies, and every refusal, go the way `require` goes."""

    def __call__(  # type: ignore[override]
        self, request: Request, db: DbSession, settings: AppSettings, supplied: SuppliedCsrf
    ) -> Principal:
        principal = _token_principal_reading(request)
        if principal is None:
            principal = optional_principal(request, db, settings)
        if principal is None:
            _refuse(db, NotAuthenticated("log in or send an API token"))
        return self.check(request, db, principal, supplied)


def _token_principal_reading(request: Request) -> Principal | None:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    factory = request.app.state.session_factory
    now = utcnow()
    with reading(factory, snapshot=False) as db:
        token = service.live_token(db, value.strip(), now=now)
    if token is None:
        return None
    if service.touch_due(token, now):
        with unit_of_work(factory) as db:
            service.touch_token(db, token.id, now)
    return Principal(staff=token.staff, role=Role(token.role), token=token)


def require_reading(permission: Permission) -> Any:
    """`require(permission)` for routes that only read: see `ReadingRequirement`."""
    return Depends(ReadingRequirement(permission))


def _refuse(db: Session, error: PrivacyOpsError) -> NoReturn:
    # The request's transaction is rolled back when a dependency raises; commit first so that
    # the refusal's audit event and any ended sessions are kept.
    db.commit()
    raise error


# --- refuse by default ------------------------------------------------------------------------


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    permissions: tuple[Permission, ...]


def _info(path: str, methods: Collection[str] | None, dependant: Dependant | None) -> RouteInfo:
    found = (
        ()
        if dependant is None
        else tuple(
            d.call.permission for d in _dependants(dependant) if isinstance(d.call, Requirement)
        )
    )
    return RouteInfo(path, frozenset(methods or ()), found)


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every API route of the app as served (prefixes of included routers applied), with the
    permissions it requires."""
    return [
        _info(str(ctx.path), ctx.methods, ctx.dependant)
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
    ]


def _unguarded(route: RouteInfo) -> list[str]:
    if route.permissions:
        return []
    return [
        f"{m} {route.path}"
        for m in sorted(route.methods)
        if (m, route.path) not in PUBLIC_ADMIN_ROUTES
    ]


class AdminRouter(APIRouter):
    """An APIRouter for staff routes: adding a route without `require(...)` raises at import,
    wherever the router is later mounted."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        route = self.routes[-1]
        if isinstance(route, APIRoute):
            missing = _unguarded(_info(route.path, route.methods, route.dependant))
            if missing:
                raise RuntimeError(f"staff route without a permission: {', '.join(missing)}")


def assert_admin_routes_guarded(app: FastAPI) -> None:
    """Fail at start if any route under /admin or /api/v1/admin lacks `require(...)`."""
    missing = [
        m for r in api_routes(app) if is_under(r.path, GUARDED_PREFIXES) for m in _unguarded(r)
    ]
    if missing:
        raise RuntimeError(
            "staff routes without a permission (add require(Permission.x)): " + ", ".join(missing)
        )


# --- answers ----------------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site, `//host`) is dropped."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME_PATH
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME_PATH
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME_PATH
    return value


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='/')}", status_code=303)


def install_auth_handlers(app: FastAPI) -> None:
    """API callers get problem+json; people in a browser get the login page or an HTML 403."""

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if is_api(request):
            response = problem_response(401, exc.title, exc.message)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return login_redirect(request)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if is_api(request):
            return problem_response(403, exc.title, exc.message)
        if request.url.path.startswith("/admin"):
            # A refused console page keeps staff inside the console, with a way back.
            return error_page(
                403,
                "Not allowed",
                _forbidden_message(exc),
                site_name="Staff console",
                brand_sub=None,
                brand_href="/admin",
                home_href="/admin",
                home_label="Back to the staff console",
            )
        return error_page(403, "Not allowed", _forbidden_message(exc))


def _forbidden_message(exc: Forbidden) -> str:
    if isinstance(exc, CsrfRefused):
        return "This form has expired or was not sent from this site. Reload the page and retry."
    return f"This page is not open to your role. {exc.message.capitalize()}."
