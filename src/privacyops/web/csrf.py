"""CSRF protection for forms and cookie-authenticated API calls.

Logged-in staff: each session has its own random token (StaffSession.csrf_token), put in every
form that changes state (field `csrf_token`) or sent by scripts in the `X-CSRF-Token` header.
The login form has no session yet: it uses a signed double-submit cookie, whose value must come
back in the form; the signature (the app's secret key) stops a forged cookie from passing.
Comparisons are constant-time. SameSite=Lax cookies already block most cross-site posts; these
tokens are the second wall.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_COOKIE = "privacyops_login_csrf"
LOGIN_PATH = "/admin/login"
# A login form left open longer than this must be reloaded.
LOGIN_MAX_AGE = 2 * 60 * 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SALT = "privacyops.login-csrf"
R = TypeVar("R", bound=Response)


def same(expected: str | None, supplied: str | None) -> bool:
    if not expected or not supplied:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), supplied.encode("utf-8"))


async def supplied_token(request: Request) -> str | None:
    """The token the request carries: the header for scripts, else the form field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(load_secret_key(settings), salt=_SALT)


def login_token(settings: Settings, current_cookie: str | None) -> str:
    """The login form's token: the browser's current one if still valid, else a new one."""
    if current_cookie and _valid_login_token(settings, current_cookie):
        return current_cookie
    return _serializer(settings).dumps(secrets.token_urlsafe(16))


def _valid_login_token(settings: Settings, token: str) -> bool:
    try:
        _serializer(settings).loads(token, max_age=LOGIN_MAX_AGE)
    except BadData:
        return False
    return True


def login_token_ok(settings: Settings, cookie: str | None, supplied: str | None) -> bool:
    """The form's token equals the cookie's, and the cookie is one this app signed recently."""
    return same(cookie, supplied) and cookie is not None and _valid_login_token(settings, cookie)


@dataclass(frozen=True)
class FormGuard:
    """A signed double-submit cookie for public forms (no session to hold a token): the cookie's
    value must come back in the form, and only the app's secret key can sign one. Each page
    family has its own cookie, path and salt, so a token of one is no token of another."""

    cookie: str
    path: str
    salt: str
    max_age: int = 24 * 60 * 60

    def _serializer(self, settings: Settings) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(load_secret_key(settings), salt=self.salt)

    def valid(self, settings: Settings, token: str) -> bool:
        try:
            self._serializer(settings).loads(token, max_age=self.max_age)
        except BadData:
            return False
        return True

    def token(self, settings: Settings, request: Request) -> str:
        """The browser's current token if still valid, else a new one."""
        cookie = request.cookies.get(self.cookie)
        if cookie and self.valid(settings, cookie):
            return cookie
        return str(self._serializer(settings).dumps(secrets.token_urlsafe(16)))

    def ok(self, settings: Settings, request: Request, form: Mapping[str, str]) -> bool:
        cookie = request.cookies.get(self.cookie)
        supplied = form.get(FORM_FIELD)
        return same(cookie, supplied) and cookie is not None and self.valid(settings, cookie)

    def attach(self, response: R, settings: Settings, token: str) -> R:
        response.set_cookie(
            self.cookie,
            token,
            max_age=self.max_age,
            path=self.path,
            secure=settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
        return response
