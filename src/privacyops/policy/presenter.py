"""The policy as readers see it: a manifest turned into the 14 sections of the published text.

Plain data for the templates, so that they only loop and print. Every word a reader sees that
is not in the manifest itself (labels for rights, legal bases, recipient kinds) is chosen here.
The section titles are those of the reference policy, in its order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from privacyops.policy.durations import parse_duration
from privacyops.policy.manifest import (
    ChildrenRule,
    CollectionMethod,
    ContactMethod,
    CookieClass,
    LegalBasis,
    MarketingChannel,
    NoticeMethod,
    PolicyManifest,
    Recipient,
    RecipientKind,
    RetentionStart,
    Right,
    UnsubscribeMethod,
)
from privacyops.policy.states import state_name

SECTION_TITLES: tuple[str, ...] = (
    "Personal Information We Collect",
    "How We Collect Personal Information",
    "How We Use Personal Information",
    "Cookies",
    "How We Share Personal Information",
    "Location of Personal Information",
    "How We Secure Personal Information",
    "Your Rights to Access and Control Personal Information",
    "Advertising",
    "Children's Personal Information",
    "Retention of Personal Information",
    "How to Contact Us",
    "Changes to This Privacy Policy",
    "Privacy Rights Under Certain State Privacy Laws",
)

# Section 1's three approaches, as a note on each source of section 2.
COLLECTION_METHOD_LABELS = {
    CollectionMethod.provided_by_person: "you give it to us",
    CollectionMethod.automatic: "we collect it automatically",
    CollectionMethod.other_sources: "we obtain it from other sources",
}

LEGAL_BASIS_LABELS = {
    LegalBasis.consent: "Your consent",
    LegalBasis.contract: "To enter into or perform a contract with you",
    LegalBasis.legal_obligation: "To comply with a legal obligation",
    LegalBasis.legitimate_interests: "Our legitimate interests",
}

COOKIE_CLASS_LABELS = {
    CookieClass.essential: "Essential cookies",
    CookieClass.functional: "Functional cookies",
    CookieClass.analytics: "Analytics cookies",
    CookieClass.advertising: "Advertising cookies",
}

RECIPIENT_KIND_LABELS = {
    RecipientKind.affiliate: "Affiliates",
    RecipientKind.processor: "Service providers",
    RecipientKind.third_party: "Other third parties",
    RecipientKind.legal_authority: "Law enforcement and government authorities",
    RecipientKind.corporate_transaction: "Corporate transactions",
}

RIGHT_LABELS = {
    Right.confirm: "Confirm whether we process your personal information",
    Right.access: "Access your personal information",
    Right.portability: "Get a portable copy of your personal information",
    Right.deletion: "Delete your personal information",
    Right.correction: "Correct inaccurate personal information",
    Right.opt_out_sale: "Opt out of the sale of your personal information",
    Right.opt_out_sharing: "Opt out of sharing for cross-context behavioral advertising",
    Right.opt_out_targeted_advertising: "Opt out of targeted advertising",
    Right.opt_out_profiling: (
        "Opt out of profiling in furtherance of decisions with legal or similarly "
        "significant effects"
    ),
    Right.limit_sensitive: "Limit (or consent to) the use of sensitive personal information",
    Right.unsubscribe: "Unsubscribe from marketing messages",
    Right.appeal: "Appeal our decision on your request",
}

# The columns of the state-rights table, in the order section 14 lists the rights.
STATE_RIGHT_COLUMNS: tuple[tuple[Right, str], ...] = (
    (Right.confirm, "Confirm"),
    (Right.access, "Access"),
    (Right.deletion, "Deletion"),
    (Right.correction, "Correction"),
    (Right.portability, "Portability"),
    (Right.opt_out_targeted_advertising, "Opt out of targeted advertising"),
    (Right.opt_out_sale, "Opt out of sale"),
    (Right.opt_out_sharing, "Opt out of sharing"),
    (Right.opt_out_profiling, "Opt out of profiling"),
    (Right.limit_sensitive, "Limit sensitive data"),
)

CHANNEL_LABELS = {
    MarketingChannel.email: "Email",
    MarketingChannel.sms: "Text messages",
    MarketingChannel.phone: "Phone calls",
    MarketingChannel.postal_mail: "Postal mail",
    MarketingChannel.social_media: "Social media",
    MarketingChannel.online_advertising: "Online advertising",
}

UNSUBSCRIBE_LABELS = {
    UnsubscribeMethod.unsubscribe_link: "the Unsubscribe link in our messages",
    UnsubscribeMethod.one_click_header: "your mail app's one-click unsubscribe button",
    UnsubscribeMethod.reply_stop: "replying STOP",
    UnsubscribeMethod.preference_center: "your preferences in this Privacy Center",
    UnsubscribeMethod.contact_us: "contacting us",
    UnsubscribeMethod.browser_settings: "your browser settings",
    UnsubscribeMethod.platform_settings: "the platform's own settings",
}

CHILDREN_RULE_LABELS = {
    ChildrenRule.parental_consent_or_delete: (
        "We keep a child's personal information only with the verified consent of a parent or "
        "guardian; otherwise we delete it."
    ),
    ChildrenRule.no_collection: "We do not collect personal information from children.",
}

RETENTION_START_LABELS = {
    RetentionStart.collection: "When we collect it",
    RetentionStart.last_activity: "Your last activity with us",
    RetentionStart.account_closure: "When you close your account",
    RetentionStart.transaction: "The date of the transaction",
    RetentionStart.end_of_purpose: "When the purpose is fulfilled",
}

CONTACT_METHOD_LABELS = {
    ContactMethod.email: "Email",
    ContactMethod.postal_mail: "Postal mail",
    ContactMethod.web_form: "The request form in this Privacy Center",
    ContactMethod.phone: "Phone",
    ContactMethod.in_store: "In one of our stores",
}

NOTICE_METHOD_LABELS = {
    NoticeMethod.email: "an email to the address on your account",
    NoticeMethod.website_notice: "a notice on this website",
}


# --- view models -------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A named thing with a description: a category, a source, a security measure..."""

    name: str
    description: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectionView:
    statement: str
    categories: tuple[Item, ...]
    special_categories_statement: str


@dataclass(frozen=True)
class SourcesView:
    sources: tuple[Item, ...]


@dataclass(frozen=True)
class PurposeRow:
    name: str
    description: str
    legal_basis: str
    categories: tuple[str, ...]
    requires_consent: bool


@dataclass(frozen=True)
class PurposesView:
    purposes: tuple[PurposeRow, ...]
    new_purposes_statement: str


@dataclass(frozen=True)
class CookieRow:
    name: str
    provider: str
    lifetime: str
    purpose: str
    party: str


@dataclass(frozen=True)
class CookieClassView:
    name: str
    description: str
    choice: str
    cookies: tuple[CookieRow, ...]


@dataclass(frozen=True)
class CookiesView:
    statement: str
    classes: tuple[CookieClassView, ...]
    browser_controls: str


@dataclass(frozen=True)
class RecipientGroup:
    kind: str
    recipients: tuple[Item, ...]


@dataclass(frozen=True)
class SharingView:
    statement: str
    groups: tuple[RecipientGroup, ...]


@dataclass(frozen=True)
class LocationView:
    statement: str
    locations: tuple[Item, ...]
    transfer_statement: str


@dataclass(frozen=True)
class SecurityView:
    statement: str
    measures: tuple[Item, ...]


@dataclass(frozen=True)
class ChannelView:
    name: str
    description: str
    how_to_unsubscribe: str
    statement: str


@dataclass(frozen=True)
class RightsView:
    statement: str
    rights: tuple[str, ...]
    channels: tuple[ChannelView, ...]
    transactional_messages_continue: bool
    tracking_statement: str


@dataclass(frozen=True)
class AdvertisingView:
    statement: str
    practices: tuple[Item, ...]


@dataclass(frozen=True)
class ChildrenView:
    statement: str
    age_threshold: int
    older_where_law_requires: bool
    rule: str


@dataclass(frozen=True)
class RetentionRow:
    category: str
    period: str
    starts: str
    reason: str


@dataclass(frozen=True)
class RetentionView:
    statement: str
    rows: tuple[RetentionRow, ...]


@dataclass(frozen=True)
class ContactView:
    statement: str
    organization: str
    legal_name: str | None
    email: str
    address_lines: tuple[str, ...]
    phone: str | None
    website: str | None
    website_href: str | None
    methods: tuple[str, ...]


@dataclass(frozen=True)
class ChangesView:
    statement: str
    notice_days: int
    notice_by: str


@dataclass(frozen=True)
class StateRightsRow:
    state: str
    state_name: str
    law: str
    cells: tuple[bool, ...]
    notes: str | None


@dataclass(frozen=True)
class StateException:
    state_name: str
    right: str
    statement: str


@dataclass(frozen=True)
class StateRightsView:
    statement: str
    columns: tuple[str, ...]
    rows: tuple[StateRightsRow, ...]
    exceptions: tuple[StateException, ...]
    nevada_sale_notice_list: bool
    nevada_statement: str | None
    supplemental_policy_states: tuple[str, ...]


SectionBody = (
    CollectionView
    | SourcesView
    | PurposesView
    | CookiesView
    | SharingView
    | LocationView
    | SecurityView
    | RightsView
    | AdvertisingView
    | ChildrenView
    | RetentionView
    | ContactView
    | ChangesView
    | StateRightsView
)


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    partial: str
    body: SectionBody

    @property
    def anchor(self) -> str:
        return f"section-{self.number}"


@dataclass(frozen=True)
class PolicyView:
    title: str
    organization: str
    last_updated: date
    introduction: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class VersionNotice:
    """Where a shown version stands against the one in force, for the version page's banner."""

    number: int
    effective_on: date
    status: Literal["in_force", "superseded", "scheduled"]
    in_force_number: int | None
    in_force_effective_on: date | None


# --- building ------------------------------------------------------------------------------


def present_policy(manifest: PolicyManifest) -> PolicyView:
    bodies: tuple[tuple[str, SectionBody], ...] = (
        ("collection", collection_view(manifest)),
        ("sources", sources_view(manifest)),
        ("purposes", purposes_view(manifest)),
        ("cookies", cookies_view(manifest)),
        ("sharing", sharing_view(manifest)),
        ("location", location_view(manifest)),
        ("security", security_view(manifest)),
        ("rights", rights_view(manifest)),
        ("advertising", advertising_view(manifest)),
        ("children", children_view(manifest)),
        ("retention", retention_view(manifest)),
        ("contact", contact_view(manifest)),
        ("changes", changes_view(manifest)),
        ("state_rights", state_rights_view(manifest)),
    )
    sections = tuple(
        Section(number, title, f"policy/{partial}.html", body)
        for number, (title, (partial, body)) in enumerate(
            zip(SECTION_TITLES, bodies, strict=True), start=1
        )
    )
    return PolicyView(
        title=manifest.title,
        organization=manifest.organization.name,
        last_updated=manifest.last_updated,
        introduction=manifest.introduction,
        sections=sections,
    )


def collection_view(manifest: PolicyManifest) -> CollectionView:
    return CollectionView(
        statement=manifest.collection_statement,
        categories=tuple(
            Item(c.name, c.description, ("Sensitive personal information",) if c.sensitive else ())
            for c in manifest.data_categories
        ),
        special_categories_statement=manifest.special_categories.statement,
    )


def sources_view(manifest: PolicyManifest) -> SourcesView:
    return SourcesView(
        tuple(
            Item(s.name, s.description, (f"How: {'; '.join(_methods(s.methods))}.",))
            for s in manifest.sources
        )
    )


def _methods(methods: Iterable[CollectionMethod]) -> list[str]:
    return [COLLECTION_METHOD_LABELS[m] for m in CollectionMethod if m in set(methods)]


def purposes_view(manifest: PolicyManifest) -> PurposesView:
    rows = tuple(
        PurposeRow(
            name=p.name,
            description=p.description,
            legal_basis=LEGAL_BASIS_LABELS[p.legal_basis],
            categories=_category_names(manifest, p.data_categories),
            requires_consent=p.requires_consent,
        )
        for p in manifest.purposes
    )
    return PurposesView(rows, manifest.new_purposes.statement)


def describe_lifetime(lifetime: str) -> str:
    if lifetime == "session":
        return "Until you close your browser (session)"
    return parse_duration(lifetime).describe()


def cookies_view(manifest: PolicyManifest) -> CookiesView:
    classes = tuple(
        CookieClassView(
            name=COOKIE_CLASS_LABELS[c.cookie_class],
            description=c.description,
            choice="Optional: you can refuse them" if c.optional else "Always on",
            cookies=tuple(
                CookieRow(
                    name=k.name,
                    provider=k.provider,
                    lifetime=describe_lifetime(k.lifetime),
                    purpose=k.purpose,
                    party="First party" if k.first_party else "Third party",
                )
                for k in c.cookies
            ),
        )
        for c in manifest.cookies.classes
    )
    return CookiesView(manifest.cookies.statement, classes, manifest.cookies.browser_controls)


def sharing_view(manifest: PolicyManifest) -> SharingView:
    groups = []
    for kind in RecipientKind:
        members = tuple(
            Item(r.name, r.description, _recipient_notes(manifest, r))
            for r in manifest.recipients
            if r.kind == kind
        )
        if members:
            groups.append(RecipientGroup(RECIPIENT_KIND_LABELS[kind], members))
    return SharingView(manifest.sharing.statement, tuple(groups))


def _recipient_notes(manifest: PolicyManifest, recipient: Recipient) -> tuple[str, ...]:
    received = ", ".join(_category_names(manifest, recipient.data_categories))
    notes = [f"What they receive: {received}."]
    if recipient.requires_consent:
        notes.append("Only with your consent.")
    if recipient.sale:
        notes.append("This disclosure is a sale of personal information under state law.")
    if recipient.share:
        notes.append("This disclosure is sharing for cross-context behavioral advertising.")
    return tuple(notes)


def location_view(manifest: PolicyManifest) -> LocationView:
    section = manifest.location
    locations = tuple(Item(loc.name, loc.description) for loc in section.locations)
    return LocationView(section.statement, locations, section.transfer_statement)


def security_view(manifest: PolicyManifest) -> SecurityView:
    measures = tuple(
        Item(
            m.name, m.description, (f"Standards: {', '.join(m.standards)}.",) if m.standards else ()
        )
        for m in manifest.security_measures
    )
    return SecurityView(manifest.security_statement, measures)


def rights_view(manifest: PolicyManifest) -> RightsView:
    advertising = manifest.advertising
    channels = tuple(
        ChannelView(
            name=CHANNEL_LABELS[c.channel],
            description=c.description,
            how_to_unsubscribe=_sentence_list(UNSUBSCRIBE_LABELS[u] for u in c.unsubscribe),
            statement=c.unsubscribe_statement,
        )
        for c in advertising.marketing_channels
    )
    return RightsView(
        statement=manifest.rights.statement,
        rights=tuple(RIGHT_LABELS[r] for r in manifest.rights.everyone),
        channels=channels,
        transactional_messages_continue=advertising.transactional_messages_continue,
        tracking_statement=manifest.rights.tracking_statement,
    )


def advertising_view(manifest: PolicyManifest) -> AdvertisingView:
    names = {r.key: r.name for r in manifest.recipients}
    practices = tuple(
        Item(p.name, p.description, _practice_notes(p.uses_name_and_likeness, p.recipients, names))
        for p in manifest.advertising.practices
    )
    return AdvertisingView(manifest.advertising.statement, practices)


def _practice_notes(
    likeness: bool, recipients: list[str], names: dict[str, str]
) -> tuple[str, ...]:
    notes = []
    if likeness:
        notes.append("You may allow us to use your name, voice or likeness.")
    if recipients:
        # Section 9 discloses who takes part; name them here, not only in section 5.
        notes.append("Shared with: " + ", ".join(names.get(k, k) for k in recipients) + ".")
    return tuple(notes)


def children_view(manifest: PolicyManifest) -> ChildrenView:
    children = manifest.children
    return ChildrenView(
        statement=children.statement,
        age_threshold=children.age_threshold,
        older_where_law_requires=children.older_where_law_requires,
        rule=CHILDREN_RULE_LABELS[children.rule],
    )


def retention_view(manifest: PolicyManifest) -> RetentionView:
    rows = tuple(
        RetentionRow(
            category=_category_names(manifest, [r.category])[0],
            period=parse_duration(r.period).describe(),
            starts=RETENTION_START_LABELS[r.starts],
            reason=r.reason,
        )
        for r in manifest.retention.schedule
    )
    return RetentionView(manifest.retention.statement, rows)


def contact_view(manifest: PolicyManifest) -> ContactView:
    org = manifest.organization
    address = org.postal_address
    return ContactView(
        statement=org.contact_statement,
        organization=org.name,
        legal_name=org.legal_name,
        email=org.email,
        address_lines=(
            org.legal_name or org.name,
            address.street,
            f"{address.city}, {address.region} {address.postal_code}",
        ),
        phone=org.phone,
        website=org.website,
        # Staff input: only a web address becomes a link, never `javascript:` or the like.
        website_href=org.website if _is_web_address(org.website) else None,
        methods=tuple(CONTACT_METHOD_LABELS[m] for m in org.contact_methods),
    )


def changes_view(manifest: PolicyManifest) -> ChangesView:
    changes = manifest.changes
    notice_by = _sentence_list(NOTICE_METHOD_LABELS[m] for m in changes.notice_methods)
    return ChangesView(changes.statement, changes.notice_days, notice_by)


def state_rights_view(manifest: PolicyManifest) -> StateRightsView:
    rights = manifest.rights
    rows = tuple(
        StateRightsRow(
            state=j.state,
            state_name=state_name(j.state),
            law=j.law,
            # A right the policy names as an exception is not granted, even if also listed.
            cells=tuple(
                right in j.rights and right not in {e.right for e in j.exceptions}
                for right, _label in STATE_RIGHT_COLUMNS
            ),
            notes=j.notes,
        )
        for j in rights.jurisdictions
    )
    exceptions = tuple(
        StateException(state_name(j.state), RIGHT_LABELS[e.right], e.statement)
        for j in rights.jurisdictions
        for e in j.exceptions
    )
    return StateRightsView(
        statement=rights.state_rights_statement,
        columns=tuple(label for _right, label in STATE_RIGHT_COLUMNS),
        rows=rows,
        exceptions=exceptions,
        nevada_sale_notice_list=rights.nevada_sale_notice_list,
        nevada_statement=rights.nevada_statement,
        supplemental_policy_states=tuple(state_name(s) for s in rights.supplemental_policy_states),
    )


def version_notice(
    number: int,
    effective_on: date,
    today: date,
    in_force: tuple[int, date] | None,
) -> VersionNotice:
    """Say whether version `number` is in force, superseded or scheduled on `today`."""
    in_force_number, in_force_date = in_force if in_force else (None, None)
    status: Literal["in_force", "superseded", "scheduled"]
    if effective_on > today:
        status = "scheduled"
    elif number == in_force_number:
        status = "in_force"
    else:
        status = "superseded"
    return VersionNotice(number, effective_on, status, in_force_number, in_force_date)


def _category_names(manifest: PolicyManifest, keys: Iterable[str]) -> tuple[str, ...]:
    # Validation guarantees the keys exist; fall back to the key rather than fail a page.
    return tuple(c.name if (c := manifest.category(k)) else k for k in keys)


def _is_web_address(value: str | None) -> bool:
    return value is not None and value.lower().startswith(("https://", "http://"))


def _sentence_list(parts: Iterable[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = list(parts)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
