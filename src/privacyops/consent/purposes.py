"""The choices a person (or a browser) can make, each a purpose named by its fideslang data-use
key, with the rule that decides when no choice was recorded yet.

Opt-out purposes are allowed until the person says no (the law lets them start without asking:
CAN-SPAM for marketing mail, the state laws for sale, sharing, targeted advertising and
profiling); opt-in purposes are refused until the person says yes (the TCPA for marketing texts,
the policy's own promise for a name and likeness in a promotion, section 9, and for a new
purpose, section 3). Sensitive data is opt-in everywhere except California, where the law gives
a right to limit its use instead (Cal. Civ. Code 1798.121) — the stricter rule of the two states
that know it is kept for the others (Va. Code 59.1-578(A)(5), Colo. Rev. Stat. 6-1-1308(7)).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Model(StrEnum):
    opt_in = "opt_in"
    opt_out = "opt_out"


@dataclass(frozen=True)
class Purpose:
    key: str
    name: str
    description: str
    model: Model
    source: str  # the rule behind the default
    # Opted out by a Global Privacy Control signal (CCPA 11 CCR 7025; the UOOM states).
    gpc: bool = False
    # Shown on the preferences page (cookie classes are chosen in the banner).
    on_preferences_page: bool = True

    def default_allowed(self, state: str | None) -> bool:
        if self.key == SENSITIVE and state == "CA":
            return True  # California: a right to limit, not an opt-in (1798.121)
        return self.model is Model.opt_out


EMAIL = "marketing.communications.email"
SMS = "marketing.communications.sms"
TARGETED = "marketing.advertising.third_party.targeted"
SALE = "third_party_sharing"
PROFILING = "personalize.profiling"
SENSITIVE = "analytics.market_research"
PROMOTIONS = "marketing.promotions"
NEVADA = "notice.nevada_sale"

PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        EMAIL,
        "Marketing email",
        "News, offers and event invitations by email. Order and account messages still come.",
        Model.opt_out,
        "CAN-SPAM, 15 U.S.C. 7704(a)(3)-(4): mail may be sent until the person opts out",
    ),
    Purpose(
        SMS,
        "Marketing texts",
        "Offers by text message. Reply STOP to any text to stop them.",
        Model.opt_in,
        "TCPA, 47 CFR 64.1200(f)(9): prior express written consent before marketing texts",
    ),
    Purpose(
        TARGETED,
        "Targeted advertising and sharing",
        "Ads chosen from your activity on other companies' sites and apps, and sharing for "
        'such ads ("sharing" under California law).',
        Model.opt_out,
        "Cal. Civ. Code 1798.120 (sharing); the state laws' opt-out of targeted advertising",
        gpc=True,
    ),
    Purpose(
        SALE,
        "Sale of personal information",
        "Giving your information to others for money or other value. We do not sell it; "
        "you can still tell us never to.",
        Model.opt_out,
        "Cal. Civ. Code 1798.120; the state laws' opt-out of sale",
        gpc=True,
    ),
    Purpose(
        PROFILING,
        "Profiling",
        "Automated decisions about you that produce legal or similarly significant effects.",
        Model.opt_out,
        "The state laws' opt-out of profiling (e.g. Colo. Rev. Stat. 6-1-1306(1)(a)(I)(C))",
    ),
    Purpose(
        SENSITIVE,
        "Sensitive information",
        "Use of sensitive information for market-trend analysis (never to identify you).",
        Model.opt_in,
        "Opt-in in most states (e.g. Va. Code 59.1-578(A)(5)); a right to limit in California "
        "(Cal. Civ. Code 1798.121)",
    ),
    Purpose(
        PROMOTIONS,
        "Name and likeness in promotions",
        "Using your name, photo or voice in a contest or promotion you take part in.",
        Model.opt_in,
        "The policy, section 9: consent before a name and likeness are used in a promotion",
    ),
    Purpose(
        NEVADA,
        "Tell me if the company ever sells covered information (Nevada)",
        "A list of people to notify if the company ever starts selling covered information.",
        Model.opt_in,
        "Nev. Rev. Stat. 603A.345: requests not to sell covered information",
    ),
)

COOKIE_CLASSES = ("essential", "functional", "analytics", "advertising")


def cookie_purpose(cookie_class: str) -> str:
    """The purpose a banner choice for a cookie class is recorded under."""
    return f"cookies.{cookie_class}"


_COOKIE_PURPOSES = tuple(
    Purpose(
        cookie_purpose(name),
        f"{name.capitalize()} cookies",
        f"The {name} cookies the policy lists.",
        # Essential cookies need no consent; optional classes wait for a yes, and advertising
        # cookies also stop at a GPC signal.
        Model.opt_out if name == "essential" else Model.opt_in,
        "The policy, section 4: essential cookies always, optional ones by the visitor's choice",
        gpc=name == "advertising",
        on_preferences_page=False,
    )
    for name in COOKIE_CLASSES
)

BY_KEY: dict[str, Purpose] = {p.key: p for p in (*PURPOSES, *_COOKIE_PURPOSES)}
GPC_PURPOSES: tuple[str, ...] = tuple(p.key for p in BY_KEY.values() if p.gpc)


class UnknownPurpose(ValueError):
    """A purpose key the platform offers no choice for."""


def purpose(key: str) -> Purpose:
    try:
        return BY_KEY[key]
    except KeyError:
        known = ", ".join(p.key for p in PURPOSES)
        raise UnknownPurpose(f"unknown purpose {key!r}; known: {known}") from None
