"""The cookie banner a retailer adds to its pages: the script, its texts, CORS, and a demo page.

`GET /consent/banner.js` serves the script the install step builds from js/banner/ (with IAB's
@iabgpp/cmpapi bundled in); `GET /api/v1/consent/banner-config` gives it the cookie classes and
texts of the policy version in force. The banner's calls come from the retailer's own sites, so
its routes answer cross-origin requests, but only from the origins in `consent_origins`, and
never with credentials: a browser is known by its first-party id, not by our cookies.
Refusing advertising cookies is also an opt-out of sale, sharing and targeted advertising
(`follow_advertising_choice`, which the browser-choices route calls).
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from privacyops.consent import ledger
from privacyops.consent.gpp import STATE_SECTIONS
from privacyops.consent.gpp.registry import USNAT
from privacyops.consent.ledger import Evidence, Method, Who
from privacyops.consent.purposes import (
    COOKIE_CLASSES,
    GPC_PURPOSES,
    SALE,
    TARGETED,
    cookie_purpose,
    purpose,
)
from privacyops.dsr.service import manifest_of, policy_in_force
from privacyops.errors import FieldProblem, NotFound, PrivacyOpsError
from privacyops.models.consent import ConsentRecord
from privacyops.models.types import utcnow
from privacyops.policy.durations import parse_duration
from privacyops.policy.manifest import CookieClassDeclaration, PolicyManifest
from privacyops.settings import Settings
from privacyops.web.deps import AppSettings, DbSession

BANNER_FILE = Path(__file__).resolve().parent.parent / "web" / "static" / "consent" / "banner.js"
CONSENT_COOKIE = "privacyops_consent"
DEFAULT_COOKIE_DAYS = 365

# The banner's routes: the only ones a retailer's site calls from another origin.
CORS_PATHS = (
    "/api/v1/consent/browser",
    "/api/v1/consent/gpp",
    "/api/v1/consent/banner-config",
    "/consent/banner.js",
)
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = frozenset({"content-type", "accept"})
PREFLIGHT_MAX_AGE = "600"

# The banner's own words. The policy's words (statement, classes, descriptions, cookies) come
# from the version in force; these are the controls around them.
TEXTS = {
    "title": "Your cookie choices",
    "classes_legend": "Cookie classes",
    "always_on": "always on",
    "cookies_in_class": "Cookies in this class",
    "third_party": "third party",
    "accept_all": "Accept all",
    "reject_all": "Reject all",
    "save": "Save choices",
    "close": "Close",
    "more_choices": "More privacy choices: email, texts, sale and sharing",
    # Said where the choice is made: refusing advertising cookies is also the opt-out below
    # (`follow_advertising_choice`), and allowing them does not undo an opt-out made elsewhere.
    "advertising_opt_out": (
        "Refusing advertising cookies also opts this browser out of targeted advertising and "
        "of the sale and sharing of your personal information. Allowing them again does not "
        "undo an opt-out you made another way, such as with Global Privacy Control or on the "
        "privacy choices page."
    ),
    # 11 CCR 7025(c)(6) (2026 package): display whether the opt-out signal was processed.
    "gpc_honoured": (
        "Your Global Privacy Control signal was honoured: this browser is opted out of the sale "
        "and sharing of personal information and of targeted advertising, and advertising "
        "cookies stay off."
    ),
    "gpc_short": "Your Global Privacy Control signal was honoured",
    "gpc_locked": "off: your Global Privacy Control signal is on",
    # 11 CCR 7025(c)(3): the signal wins over an earlier yes; the business may say so.
    "gpc_conflict": (
        "You allowed {purposes} before. Your Global Privacy Control signal now opts you out. "
        "To allow it again, turn the signal off in your browser, then choose here."
    ),
    "save_failed": "Your choices could not be saved. Please try again.",
}
# 11 CCR 7015(b): "Your Privacy Choices" is the alternative opt-out link's title.
PRIVACY_CHOICES_TEXT = "Your Privacy Choices"
PRIVACY_CHOICES_PATH = "/preferences"
# Not a registered CMP: the GPP CMP API specification says to use 1 (reference notes 4.5).
CMP_ID = 1


class BannerNotBuilt(PrivacyOpsError):
    status_code = 503
    title = "Banner not built"


class OriginNotAllowed(PrivacyOpsError):
    status_code = 403
    title = "Origin not allowed"


# -- CORS --------------------------------------------------------------------------------------


def _origin_key(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origin(settings: Settings, origin: str | None) -> str | None:
    """The request's Origin when it is one of the retailer's sites (`consent_origins`); exact
    matches only (scheme, host and port), no wildcards."""
    if not origin:
        return None
    wanted = {_origin_key(o) for o in settings.consent_origins}
    return origin if _origin_key(origin) in wanted else None


def is_banner_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in CORS_PATHS)


def cors(request: Request, response: Response, settings: AppSettings) -> None:
    """A dependency for the banner's routes: allow the retailer's origins to read the answer.

    No Access-Control-Allow-Credentials: the banner sends no cookies, and a site that is not
    listed gets no CORS header, so its scripts cannot read anything."""
    if not is_banner_path(request.url.path):
        return
    add_cors_headers(response, settings, request.headers.get("origin"))


def add_cors_headers(response: Response, settings: Settings, origin: str | None) -> None:
    response.headers["Vary"] = "Origin"
    allowed = allowed_origin(settings, origin)
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed


router = APIRouter(tags=["consent"])


def _refused(field: str, message: str) -> OriginNotAllowed:
    return OriginNotAllowed(f"{field}: {message}", [FieldProblem(field, message)])


def _preflight(
    settings: AppSettings,
    origin: Annotated[str | None, Header()] = None,
    method: Annotated[str | None, Header(alias="access-control-request-method")] = None,
    headers: Annotated[str | None, Header(alias="access-control-request-headers")] = None,
) -> Response:
    """Answer a browser's CORS preflight for a banner route: only the retailer's sites, only
    the methods and headers the banner uses."""
    if allowed_origin(settings, origin) is None:
        raise _refused(
            "origin",
            "not one of the sites allowed to embed the banner (PRIVACYOPS_CONSENT_ORIGINS)",
        )
    if (method or "").upper() not in ("GET", "POST"):
        raise _refused("access-control-request-method", "the banner's routes take GET and POST")
    asked = {h.strip().lower() for h in (headers or "").split(",") if h.strip()}
    if not asked <= CORS_HEADERS:
        raise _refused(
            "access-control-request-headers", "the banner sends only Content-Type and Accept"
        )
    response = Response(status_code=204)
    add_cors_headers(response, settings, origin)
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


for _path in (
    "/api/v1/consent/browser",
    "/api/v1/consent/browser/{browser_id}",
    "/api/v1/consent/gpp",
    "/api/v1/consent/banner-config",
    "/consent/banner.js",
):
    router.add_api_route(_path, _preflight, methods=["OPTIONS"], include_in_schema=False)


# -- the script --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltScript:
    body: bytes
    digest: str


@lru_cache(maxsize=2)
def _read_script(path: Path, mtime_ns: int) -> BuiltScript:
    body = path.read_bytes()
    return BuiltScript(body, hashlib.sha256(body).hexdigest()[:20])


def built_script(path: Path | None = None) -> BuiltScript:
    path = path or BANNER_FILE
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise BannerNotBuilt(
            "The consent banner script is not built: run `make js` (npm ci and npm run build "
            "in js/), which writes src/privacyops/web/static/consent/banner.js."
        ) from None
    return _read_script(path, mtime_ns)


def _version_number(db: Session) -> int | None:
    try:
        return policy_in_force(db, utcnow()).number
    except NotFound:
        return None


# What a 304 repeats of the full answer (RFC 9110 15.4.5); never its length or type.
_NOT_MODIFIED_HEADERS = frozenset({"etag", "cache-control", "vary", "access-control-allow-origin"})


def _cached(request: Request, response: Response, etag: str, max_age: int) -> Response:
    """Cacheable by anyone (the same for every visitor); revalidated by ETag."""
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if etag not in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return response
    kept = {k: v for k, v in response.headers.items() if k.lower() in _NOT_MODIFIED_HEADERS}
    return Response(status_code=304, headers=kept)


@router.get("/consent/banner.js", include_in_schema=False)
def banner_script(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """The banner, as the install step built it; its ETag changes with the build and with the
    policy version in force, so that a cache never pairs an old banner with new texts."""
    script = built_script()
    etag = f'"{script.digest}-p{_version_number(db) or 0}"'
    response = Response(script.body, media_type="application/javascript; charset=utf-8")
    add_cors_headers(response, settings, request.headers.get("origin"))
    return _cached(request, response, etag, 3600)


# -- the texts of the policy in force ------------------------------------------------------------


class BannerCookie(BaseModel):
    name: str
    provider: str
    lifetime: str = Field(description="ISO 8601 duration, or `session`.")
    lifetime_text: str = Field(description="The lifetime in words: `13 months`, `Session`.")
    purpose: str
    first_party: bool


class BannerClass(BaseModel):
    cookie_class: str = Field(alias="class", serialization_alias="class")
    label: str
    description: str
    optional: bool = Field(description="False for essential cookies: always on.")
    cookies: list[BannerCookie]


class PrivacyChoicesLink(BaseModel):
    text: str
    url: str


class GppSettings(BaseModel):
    cmp_id: int
    supported_apis: list[str] = Field(description="`id:prefix` of each section we can write.")


class BannerConfig(BaseModel):
    policy_version: int
    statement: str
    browser_controls: str
    classes: list[BannerClass]
    privacy_choices: PrivacyChoicesLink
    purpose_names: dict[str, str] = Field(description="Names of the purposes GPC opts out of.")
    cookie_max_age: int = Field(description="Seconds the banner keeps its first-party cookie.")
    texts: dict[str, str]
    gpp: GppSettings


def lifetime_text(lifetime: str) -> str:
    return "Session" if lifetime == "session" else parse_duration(lifetime).describe()


def _banner_class(declared: CookieClassDeclaration) -> BannerClass:
    name = declared.cookie_class.value
    return BannerClass.model_validate(
        {
            "class": name,
            "label": purpose(cookie_purpose(name)).name,
            "description": declared.description,
            "optional": declared.optional,
            "cookies": [
                BannerCookie(
                    name=c.name,
                    provider=c.provider,
                    lifetime=c.lifetime,
                    lifetime_text=lifetime_text(c.lifetime),
                    purpose=c.purpose,
                    first_party=c.first_party,
                )
                for c in declared.cookies
            ],
        }
    )


def cookie_max_age(manifest: PolicyManifest) -> int:
    """How long the banner keeps its cookie: the lifetime the policy declares for it."""
    for declared in manifest.cookies.classes:
        for cookie in declared.cookies:
            if cookie.name == CONSENT_COOKIE and cookie.lifetime != "session":
                return round(parse_duration(cookie.lifetime).approx_days * 86400)
    return DEFAULT_COOKIE_DAYS * 86400


def supported_apis(manifest: PolicyManifest) -> list[str]:
    """usnat, and the sections of the states whose rights the policy names (Nevada has none)."""
    specs = [USNAT]
    states = sorted({j.state for j in manifest.rights.jurisdictions})
    specs += [STATE_SECTIONS[s] for s in states if s in STATE_SECTIONS]
    return [f"{spec.id}:{spec.prefix}" for spec in sorted(specs, key=lambda s: s.id)]


def banner_config_for(number: int, manifest: PolicyManifest, settings: Settings) -> BannerConfig:
    """The banner's texts: the policy's cookie section, known classes only, in the policy's
    order (the banner cannot gate a class the consent ledger does not know)."""
    classes = [c for c in manifest.cookies.classes if c.cookie_class.value in COOKIE_CLASSES]
    return BannerConfig(
        policy_version=number,
        statement=manifest.cookies.statement,
        browser_controls=manifest.cookies.browser_controls,
        classes=[_banner_class(c) for c in classes],
        privacy_choices=PrivacyChoicesLink(
            text=PRIVACY_CHOICES_TEXT,
            url=settings.public_url.rstrip("/") + PRIVACY_CHOICES_PATH,
        ),
        purpose_names={key: purpose(key).name for key in GPC_PURPOSES},
        cookie_max_age=cookie_max_age(manifest),
        texts=TEXTS,
        gpp=GppSettings(cmp_id=CMP_ID, supported_apis=supported_apis(manifest)),
    )


@router.get("/api/v1/consent/banner-config", response_model=BannerConfig)
def banner_config(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """The cookie classes and texts of the policy version in force, for the banner. Public and
    the same for every visitor (cacheable for five minutes, revalidated by ETag)."""
    version = policy_in_force(db, utcnow())
    config = banner_config_for(version.number, manifest_of(version), settings)
    body = config.model_dump(by_alias=True)
    response = JSONResponse(body)
    add_cors_headers(response, settings, request.headers.get("origin"))
    digest = hashlib.sha256(response.body).hexdigest()[:20]
    return _cached(request, response, f'"{digest}-p{version.number}"', 300)


# -- advertising cookies and the opt-out of sale and sharing -------------------------------------

ADVERTISING: Final = "advertising"
# Advertising cookies make a visitor's activity available to advertising companies for ads
# chosen from their activity across sites: "sharing" for cross-context behavioral advertising
# (Cal. Civ. Code 1798.140(ah)), targeted advertising in the other states' laws, and a sale
# where the companies give value for it. So refusing them is also the "Do Not Sell or Share"
# opt-out, as OneTrust's US templates map "targeting cookies off", and the GPP string says so.
# The banner is one more way to opt out, not the only one: the preferences page and GPC stay
# (a cookie banner alone is not an acceptable opt-out method, 11 CCR 7026(a)(4)).
ADVERTISING_OPT_OUTS = (TARGETED, SALE)


def follow_advertising_choice(
    db: Session,
    who: Who,
    advertising: bool | None,
    *,
    gpc: bool,
    policy_version: int | None,
    evidence: Evidence,
) -> list[ConsentRecord]:
    """What the banner's choice for advertising cookies (None: the choice left the class out)
    means for sale, sharing and targeted advertising (`ADVERTISING_OPT_OUTS`); called after the
    cookie choices and any GPC signal are recorded. Returns the records it added.

    The rule:
    - Refused: an opt-out (method banner) of each purpose for the browser and, when known,
      the person, wherever it is still allowed. An opt-out already recorded is left as it
      is: a GPC "no" stays the signal's (the page says it was honoured, the GPP string sets
      Gpc), a "no" from the preferences page stays the person's.
    - Allowed (an explicit yes to the class in the banner): only the banner's own opt-out is
      undone, and for the browser only. An opt-out made another way (GPC, the preferences
      page, staff, an import) is a decision about sale and sharing, and accepting cookies is
      not an opt-in to them: it stays until the person reverses it the same way. A person's
      opt-out is never lifted by a banner, whose browser may be shared; the person uses the
      preferences page.
    - While GPC is on nothing is re-allowed: the signal wins (11 CCR 7025(c)(3)).
    """
    if advertising is None:
        return []
    added: list[ConsentRecord] = []
    for key in ADVERTISING_OPT_OUTS:
        target = _reallowable(db, who, key, gpc) if advertising else _still_allowing(db, who, key)
        if target is not None:
            added.append(
                ledger.record(
                    db,
                    target,
                    key,
                    advertising,
                    Method.banner,
                    actor="consumer",
                    policy_version=policy_version,
                    evidence=evidence,
                )
            )
    return added


def _parts(who: Who) -> list[Who]:
    person = [Who(subject_id=who.subject_id)] if who.subject_id is not None else []
    return person + ([Who(browser_id=who.browser_id)] if who.browser_id is not None else [])


def _still_allowing(db: Session, who: Who, key: str) -> Who | None:
    """The part of `who` (person, browser, or both at once) whose decision is still a yes."""
    parts = _parts(who)
    allowing = [part for part in parts if ledger.decide(db, part, key).allowed]
    if len(allowing) == len(parts):
        return who
    return allowing[0] if allowing else None


def _reallowable(db: Session, who: Who, key: str, gpc: bool) -> Who | None:
    """The browser, when its opt-out is the banner's own and no GPC signal is on."""
    if gpc or who.browser_id is None:
        return None
    browser = Who(browser_id=who.browser_id)
    found = ledger.decide(db, browser, key)
    return browser if not found.allowed and found.method == Method.banner else None


# -- a demo page -------------------------------------------------------------------------------

DEMO_TAGS = (
    ("analytics", "/static/consent-demo-analytics.js", "An analytics tag"),
    ("advertising", "/static/consent-demo-advertising.js", "An advertising tag"),
)


def _demo_page(public_url: str, state: str | None) -> str:
    # The visitor's state, when the site knows it, adds that state's GPP section.
    data_state = f' data-state="{state}"' if state else ""
    snippet = html.escape(_DEMO_SNIPPET.format(base=public_url.rstrip("/")))
    rows = "".join(
        f'<li>{html.escape(label)} (<code>data-consent="{cls}"</code>): '
        f'<strong id="demo-{cls}-status">has not run</strong></li>'
        for cls, _src, label in DEMO_TAGS
    )
    tags = "".join(
        f'<script type="text/plain" data-consent="{cls}" src="{src}"></script>\n'
        for cls, src, _label in DEMO_TAGS
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consent banner demo</title>
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<main class="wrap">
<h1>Consent banner demo</h1>
<p>This page embeds the consent banner the way a retailer's page does: one script, and tags
marked <code>type="text/plain" data-consent="CLASS"</code> that run only once their class is
allowed.</p>
<ul>{rows}</ul>
<p><a href="#" data-privacy-choices>Your Privacy Choices</a></p>
<p>On your own pages (allow their origin in <code>PRIVACYOPS_CONSENT_ORIGINS</code>):</p>
<pre class="prewrap"><code>{snippet}</code></pre>
</main>
<script src="/consent/banner.js"{data_state}></script>
{tags}</body>
</html>
"""


_DEMO_SNIPPET = """<script src="{base}/consent/banner.js"></script>
<script type="text/plain" data-consent="analytics" src="https://example.com/analytics.js">
</script>
<a href="#" data-privacy-choices>Your Privacy Choices</a>"""


@router.get("/consent/demo", response_class=HTMLResponse, include_in_schema=False)
def banner_demo(
    settings: AppSettings,
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> HTMLResponse:
    """A page of our own that embeds the banner and two marked tags: to see it work
    (`?state=CA` passes a visitor's state to the banner, as a retailer's page may)."""
    return HTMLResponse(_demo_page(settings.public_url, state))
