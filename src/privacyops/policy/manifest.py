"""The policy manifest: a whole privacy policy as data.

Each model mirrors a part of a published privacy policy. Structural rules live here (types,
required fields, ISO 8601 durations, known states); rules that relate one part to another
(a purpose using an undeclared category, a sale while the policy says it sells nothing) live in
`validation.py`, so that every problem in a file is reported at once.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from privacyops.policy.durations import parse_duration
from privacyops.policy.states import US_STATES

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
# Our own short keys for parts of the manifest (category, source, purpose, recipient...).
Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=64)]
# A fideslang taxonomy key such as `user.contact.email` or `marketing.advertising`.
FidesKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=200)]


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


def _check_state(value: str) -> str:
    if value not in US_STATES:
        raise ValueError(f"unknown US state code {value!r} (use a two-letter code such as CA)")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
StateCode = Annotated[str, AfterValidator(_check_state)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- organisation and contact (section 12) -------------------------------------------------


class PostalAddress(Strict):
    street: str
    city: str
    region: StateCode
    postal_code: Annotated[str, Field(pattern=r"^\d{5}(-\d{4})?$")]
    country: Literal["US"] = "US"

    def one_line(self) -> str:
        return f"{self.street}, {self.city}, {self.region} {self.postal_code}"


class ContactMethod(StrEnum):
    email = "email"
    postal_mail = "postal_mail"
    web_form = "web_form"
    phone = "phone"
    in_store = "in_store"


class Organization(Strict):
    name: str
    legal_name: str | None = None
    website: str | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    postal_address: PostalAddress
    phone: str | None = None
    contact_methods: list[ContactMethod] = Field(min_length=1)
    contact_statement: str = Field(
        description="Section 12 prose: how to reach the company about privacy."
    )


# --- data collected (sections 1 and 2) -----------------------------------------------------


class CollectionMethod(StrEnum):
    """The three approaches of section 1: given by the person, collected automatically, obtained."""

    provided_by_person = "provided_by_person"
    automatic = "automatic"
    other_sources = "other_sources"


class Source(Strict):
    key: Key
    name: str
    description: str
    methods: list[CollectionMethod] = Field(min_length=1)


class DataCategory(Strict):
    key: Key
    name: str
    description: str
    fides_keys: list[FidesKey] = Field(
        min_length=1, description="fideslang data-category keys this policy category covers."
    )
    sources: list[Key] = Field(min_length=1, description="Keys of the sources it comes from.")
    sensitive: bool = Field(
        False, description="A special (sensitive) category: health, beliefs, biometric, ..."
    )
    permitted_purposes: list[Key] | None = Field(
        None,
        description=(
            "For sensitive categories: the only purposes allowed to use it. None means any "
            "purpose that declares it."
        ),
    )


class SpecialCategoriesRule(Strict):
    """Section 1's promise about special categories of personal data."""

    actively_collected: bool
    used_for_identification: bool
    statement: str


class TaxonomyExtension(Strict):
    """A taxonomy key the policy needs and fideslang's default taxonomy lacks."""

    fides_key: FidesKey
    parent_key: FidesKey
    name: str
    description: str


class TaxonomyExtensions(Strict):
    data_categories: list[TaxonomyExtension] = Field(default_factory=list)
    data_uses: list[TaxonomyExtension] = Field(default_factory=list)


# --- purposes (section 3) ------------------------------------------------------------------


class LegalBasis(StrEnum):
    consent = "consent"
    contract = "contract"
    legal_obligation = "legal_obligation"
    legitimate_interests = "legitimate_interests"


class Purpose(Strict):
    key: Key
    name: str
    description: str
    data_uses: list[FidesKey] = Field(min_length=1, description="fideslang data-use keys.")
    legal_basis: LegalBasis
    data_categories: list[Key] = Field(min_length=1, description="Policy category keys used.")
    identifies_person: bool = Field(
        False,
        description="Whether the purpose uses data to identify a person (login, verification).",
    )
    requires_consent: bool = Field(
        False, description="Consent is asked before any processing for this purpose."
    )


class NewPurposeRule(Strict):
    """Section 3: a purpose not listed needs consent before it is used."""

    requires_consent: bool
    statement: str


# --- cookies (section 4) -------------------------------------------------------------------


class CookieClass(StrEnum):
    essential = "essential"
    functional = "functional"
    analytics = "analytics"
    advertising = "advertising"


class Cookie(Strict):
    name: str
    provider: str
    lifetime: Duration | Literal["session"]
    purpose: str
    first_party: bool = True


class CookieClassDeclaration(Strict):
    cookie_class: CookieClass = Field(alias="class")
    description: str
    optional: bool = Field(description="Whether the visitor may refuse this class.")
    cookies: list[Cookie] = Field(default_factory=list)


class CookiesSection(Strict):
    statement: str
    browser_controls: str
    classes: list[CookieClassDeclaration] = Field(min_length=1)


# --- recipients (section 5) ----------------------------------------------------------------


class RecipientKind(StrEnum):
    affiliate = "affiliate"
    processor = "processor"
    third_party = "third_party"
    legal_authority = "legal_authority"
    corporate_transaction = "corporate_transaction"


class Recipient(Strict):
    key: Key
    name: str
    kind: RecipientKind
    description: str
    data_categories: list[Key] = Field(min_length=1)
    purposes: list[Key] = Field(min_length=1)
    sale: bool = Field(False, description="A sale under state law (data for value).")
    share: bool = Field(
        False, description="Sharing for cross-context behavioural advertising (CCPA 1798.140(ah))."
    )
    requires_consent: bool = False
    location: Key | None = Field(None, description="Storage location key, if known.")


class SharingSection(Strict):
    sells_personal_information: bool
    shares_for_targeted_advertising: bool
    statement: str


# --- location (section 6) and security (section 7) ----------------------------------------


class StorageLocation(Strict):
    key: Key
    name: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    description: str


class LocationSection(Strict):
    statement: str
    transfer_statement: str
    locations: list[StorageLocation] = Field(min_length=1)


class SecurityMeasure(Strict):
    key: Key
    name: str
    description: str
    standards: list[str] = Field(default_factory=list)


# --- rights (sections 8 and 14) ------------------------------------------------------------


class Right(StrEnum):
    confirm = "confirm"
    access = "access"
    portability = "portability"
    deletion = "deletion"
    correction = "correction"
    opt_out_sale = "opt_out_sale"
    opt_out_sharing = "opt_out_sharing"
    opt_out_targeted_advertising = "opt_out_targeted_advertising"
    opt_out_profiling = "opt_out_profiling"
    limit_sensitive = "limit_sensitive"
    unsubscribe = "unsubscribe"
    appeal = "appeal"


class RightException(Strict):
    right: Right
    statement: str


class JurisdictionRights(Strict):
    state: StateCode
    law: str = Field(description="The state law the rights come from, as the policy names it.")
    rights: list[Right] = Field(min_length=1)
    exceptions: list[RightException] = Field(
        default_factory=list, description="Rights the policy says this state does not grant."
    )
    notes: str | None = None


class RightsSection(Strict):
    statement: str
    everyone: list[Right] = Field(
        min_length=1, description="Rights the policy grants to every person (section 8)."
    )
    state_rights_statement: str
    jurisdictions: list[JurisdictionRights] = Field(min_length=1)
    nevada_sale_notice_list: bool = Field(
        False, description="Nevada residents may ask to be told if sales of covered info start."
    )
    nevada_statement: str | None = None
    supplemental_policy_states: list[StateCode] = Field(
        default_factory=list,
        description="States whose residents get a supplemental state privacy policy.",
    )
    tracking_statement: str


# --- marketing and advertising (sections 8 and 9) ------------------------------------------


class MarketingChannel(StrEnum):
    email = "email"
    sms = "sms"
    phone = "phone"
    postal_mail = "postal_mail"
    social_media = "social_media"
    online_advertising = "online_advertising"


class UnsubscribeMethod(StrEnum):
    unsubscribe_link = "unsubscribe_link"
    one_click_header = "one_click_header"
    reply_stop = "reply_stop"
    preference_center = "preference_center"
    contact_us = "contact_us"
    browser_settings = "browser_settings"
    platform_settings = "platform_settings"


class MarketingChannelDeclaration(Strict):
    channel: MarketingChannel
    description: str
    purposes: list[Key] = Field(min_length=1)
    unsubscribe: list[UnsubscribeMethod] = Field(min_length=1)
    unsubscribe_statement: str


class AdvertisingPractice(Strict):
    key: Key
    name: str
    description: str
    purposes: list[Key] = Field(default_factory=list)
    recipients: list[Key] = Field(default_factory=list)
    uses_name_and_likeness: bool = False


class AdvertisingSection(Strict):
    statement: str
    marketing_channels: list[MarketingChannelDeclaration] = Field(min_length=1)
    practices: list[AdvertisingPractice] = Field(default_factory=list)
    transactional_messages_continue: bool = Field(
        True, description="Service messages continue after a marketing opt-out (section 8)."
    )


# --- children (section 10), retention (section 11), changes (section 13) ------------------


class ChildrenRule(StrEnum):
    parental_consent_or_delete = "parental_consent_or_delete"
    no_collection = "no_collection"


class ChildrenSection(Strict):
    age_threshold: Annotated[int, Field(ge=1, le=21)]
    older_where_law_requires: bool
    rule: ChildrenRule
    statement: str


class RetentionStart(StrEnum):
    collection = "collection"
    last_activity = "last_activity"
    account_closure = "account_closure"
    transaction = "transaction"
    end_of_purpose = "end_of_purpose"


class RetentionRule(Strict):
    category: Key
    period: Duration
    starts: RetentionStart
    reason: str
    legal_obligation: str | None = Field(
        None,
        min_length=1,
        description=(
            "The law that requires the records to be kept (e.g. `26 CFR 1.6001-1`). Data kept "
            "under such a rule survives an erasure request, stripped of identity, until the "
            "period ends; without one, the period is the company's choice and an erasure "
            "request ends it."
        ),
    )


class RetentionSection(Strict):
    statement: str
    schedule: list[RetentionRule] = Field(min_length=1)


class NoticeMethod(StrEnum):
    email = "email"
    website_notice = "website_notice"


class ChangesSection(Strict):
    statement: str
    notice_days: Annotated[int, Field(ge=0, le=365)]
    notice_methods: list[NoticeMethod] = Field(min_length=1)


# --- the whole manifest ---------------------------------------------------------------------


class PolicyManifest(Strict):
    schema_version: Literal[1]
    title: str
    last_updated: date
    introduction: str
    organization: Organization
    data_subjects: list[FidesKey] = Field(min_length=1)
    taxonomy_extensions: TaxonomyExtensions = Field(default_factory=TaxonomyExtensions)
    collection_statement: str
    sources: list[Source] = Field(min_length=1)
    data_categories: list[DataCategory] = Field(min_length=1)
    special_categories: SpecialCategoriesRule
    purposes: list[Purpose] = Field(min_length=1)
    new_purposes: NewPurposeRule
    cookies: CookiesSection
    sharing: SharingSection
    recipients: list[Recipient] = Field(min_length=1)
    location: LocationSection
    security_statement: str
    security_measures: list[SecurityMeasure] = Field(min_length=1)
    rights: RightsSection
    advertising: AdvertisingSection
    children: ChildrenSection
    retention: RetentionSection
    changes: ChangesSection

    def category(self, key: str) -> DataCategory | None:
        return next((c for c in self.data_categories if c.key == key), None)

    def purpose(self, key: str) -> Purpose | None:
        return next((p for p in self.purposes if p.key == key), None)

    def jurisdiction(self, state: str) -> JurisdictionRights | None:
        return next((j for j in self.rights.jurisdictions if j.state == state), None)

    def earliest_material_change(self, today: date) -> date:
        """The first day a material change published today may take effect (section 13)."""
        return today + timedelta(days=self.changes.notice_days)


KEY_RE = re.compile(KEY_PATTERN)
