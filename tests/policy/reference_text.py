"""What the reference policy names, section by section: the checklist for the example manifest.

Source: /work/shared/policy/miniso-usa-privacy-policy-2024-07-31.txt (MINISO USA Privacy Policy,
Last Updated July 31, 2024). Plain data, no logic, so that a reader can hold it against the text.

Every item carries:
- `phrase`: words the rendered policy page must show for the item. They are the policy's own
  words as the example manifest spells them (names, statements), so a page generated from the
  manifest shows them. Compare case-insensitively and after HTML unescaping: the page escapes
  apostrophes ("Children's") and capitalisation follows the manifest, not the original.
- `key`: the manifest key or value the item maps to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Item:
    phrase: str
    key: str


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    # The top-level manifest field (dotted for a nested one) that holds the section's content.
    field: str


@dataclass(frozen=True)
class Purpose:
    phrase: str
    key: str
    # A fideslang data-use key the purpose must use (itself or a descendant).
    data_use: str


@dataclass(frozen=True)
class RecipientClass:
    phrase: str
    key: str
    kind: str
    section: int
    share: bool = False


@dataclass(frozen=True)
class RightException:
    state: str
    right: str
    phrase: str


@dataclass(frozen=True)
class State:
    code: str
    name: str
    rights: frozenset[str]
    exceptions: frozenset[str] = frozenset()


LAST_UPDATED = date(2024, 7, 31)
ORGANIZATION = "Miniso USA"

SECTIONS: tuple[Section, ...] = (
    Section(1, "Personal Information We Collect", "data_categories"),
    Section(2, "How We Collect Personal Information", "sources"),
    Section(3, "How We Use Personal Information", "purposes"),
    Section(4, "Cookies", "cookies"),
    Section(5, "How We Share Personal Information", "recipients"),
    Section(6, "Location of Personal Information", "location"),
    Section(7, "How We Secure Personal Information", "security_measures"),
    Section(8, "Your Rights to Access and Control Personal Information", "rights"),
    Section(9, "Advertising", "advertising"),
    Section(10, "Children's Personal Information", "children"),
    Section(11, "Retention of Personal Information", "retention"),
    Section(12, "How to Contact Us", "organization"),
    Section(13, "Changes to This Privacy Policy", "changes"),
    Section(14, "Privacy Rights Under Certain State Privacy Laws", "rights.jurisdictions"),
)

# Section 1: the three approaches to collection, as collection methods of the sources.
COLLECTION_APPROACHES: tuple[Item, ...] = (
    Item("You give some of it directly to us", "provided_by_person"),
    Item("collected automatically", "automatic"),
    Item("other sources, such as third-party providers", "other_sources"),
)

# Section 1: the eleven categories of personal information.
CATEGORIES: tuple[Item, ...] = (
    Item("Identity information", "identity"),
    Item("Contact information", "contact"),
    Item("Credentials", "credentials"),
    Item("Payment information", "payment"),
    Item("Transaction information", "transaction"),
    Item("Purchaser information", "purchaser"),
    Item("Marketing information", "marketing"),
    Item("Video, voice, and image", "video_voice_image"),
    Item("Internet or other similar network activity", "network_activity"),
    Item("Computer and device information", "device"),
    Item("Cookies information", "cookies"),
)

# Section 1: special categories, collected solely for market-trend analysis.
SPECIAL_CATEGORIES = Item("special categories of personal data", "special_categories")
SPECIAL_CATEGORIES_PURPOSE = Purpose(
    "market trends and user preferences", "market_trend_analysis", "analytics"
)

# Section 2: the nine sources.
SOURCES: tuple[Item, ...] = (
    Item("Websites and Social Media", "websites_social_media"),
    Item("Email, text messages or other electronic messages", "electronic_messages"),
    Item("Customer Service", "customer_service"),
    Item("Retail stores", "retail_stores"),
    Item("Registration forms", "registration_forms"),
    Item("Membership program", "membership_program"),
    Item("Research", "research"),
    Item("Apps", "apps"),
    Item("Third-party Automated Collection", "third_party_automated_collection"),
)

# Section 3: the eight purposes.
PURPOSES: tuple[Purpose, ...] = (
    Purpose("Offer Miniso USA Services", "offer_services", "essential.service"),
    Purpose("Marketing Campaign", "marketing_campaign", "marketing.communications"),
    Purpose("Digital Marketing", "digital_marketing", "marketing.communications.email"),
    Purpose("Measure, Support and Improve our Services", "measure_improve", "essential.service"),
    Purpose("Comply with Legal Obligations", "legal_obligations", "essential.legal_obligation"),
    Purpose("Communicate with You", "communicate", "essential.service.notifications"),
    Purpose("Advertising", "advertising", "marketing.advertising"),
    Purpose("Research", "research", "analytics"),
)

# Section 3: "Other Purpose We Seek Your Consent".
NEW_PURPOSES = Item(
    "we will ask for your consent before we use it", "new_purposes.requires_consent"
)

# Section 5 (and the recipients section 9 names). Tax authorities and regulators are listed
# among "service providers" in the text but are legal authorities, not processors.
RECIPIENT_CLASSES: tuple[RecipientClass, ...] = (
    RecipientClass("Affiliates", "affiliates", "affiliate", 5),
    RecipientClass("Payment provider", "payment_provider", "processor", 5),
    RecipientClass("IT service provider", "it_service_provider", "processor", 5),
    RecipientClass("Warehouse partners", "warehouse_partners", "processor", 5),
    RecipientClass(
        "Marketing and advertising partners", "marketing_advertising_partners", "processor", 5
    ),
    RecipientClass(
        "Social media partners and online search platforms",
        "social_media_search_platforms",
        "third_party",
        5,
        share=True,
    ),
    RecipientClass("Survey suppliers", "survey_suppliers", "processor", 5),
    RecipientClass("Tax authorities", "tax_authorities", "legal_authority", 5),
    RecipientClass("Regulators", "regulators", "legal_authority", 5),
    RecipientClass("Professional advisers", "professional_advisers", "processor", 5),
    RecipientClass(
        "Law enforcement or other government agencies", "law_enforcement", "legal_authority", 5
    ),
    RecipientClass(
        "Other third parties under your consent", "third_parties_with_consent", "third_party", 5
    ),
    RecipientClass("Corporate Transactions", "corporate_transactions", "corporate_transaction", 5),
    RecipientClass(
        "Third-party advertising companies",
        "third_party_advertising_companies",
        "third_party",
        9,
        share=True,
    ),
    RecipientClass("Promotion sponsors", "promotion_sponsors", "third_party", 9),
)

# Section 8: rights of everyone. The policy's "update" is the right to correct.
EVERYONE_RIGHTS: tuple[Item, ...] = (
    Item("access, update and delete", "access"),
    Item("access, update and delete", "correction"),
    Item("access, update and delete", "deletion"),
    Item("Unsubscribe", "unsubscribe"),
)

# Section 14: the rights of the State Privacy Laws, in the order the text lists them.
STATE_RIGHTS: tuple[Item, ...] = (
    Item("confirm whether we process", "confirm"),
    Item("access and delete certain personal information", "access"),
    Item("access and delete certain personal information", "deletion"),
    Item("correct inaccuracies", "correction"),
    Item("data portability", "portability"),
    Item("targeted advertising", "opt_out_targeted_advertising"),
    Item("sales", "opt_out_sale"),
    Item("profiling", "opt_out_profiling"),
    Item("sensitive personal data", "limit_sensitive"),
)
_ALL = frozenset(item.key for item in STATE_RIGHTS)

EXCEPTIONS: tuple[RightException, ...] = (
    RightException("IA", "correction", "excluding Iowa and Utah"),
    RightException("IA", "opt_out_targeted_advertising", "excluding Iowa"),
    RightException("UT", "correction", "excluding Iowa and Utah"),
)


def _rights(code: str) -> frozenset[str]:
    return _ALL - {e.right for e in EXCEPTIONS if e.state == code}


def _exceptions(code: str) -> frozenset[str]:
    return frozenset(e.right for e in EXCEPTIONS if e.state == code)


# Section 14: the thirteen states named. California also grants the opt-out of sharing for
# cross-context behavioral advertising (Cal. Civ. Code 1798.120), which the policy does.
_NAMED = (
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("MT", "Montana"),
    ("OR", "Oregon"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VA", "Virginia"),
)
STATES: tuple[State, ...] = tuple(
    State(
        code,
        name,
        _rights(code) | ({"opt_out_sharing"} if code == "CA" else set()),
        _exceptions(code),
    )
    for code, name in _NAMED
)

# Section 14, last paragraph: Nevada's opt-out of the sale of covered information, and the list
# of residents who want to be told if sales start.
NEVADA = State("NV", "Nevada", frozenset({"opt_out_sale"}))
NEVADA_PHRASE = "covered information"

SUPPLEMENTAL_POLICY_STATES = frozenset({"CA", "CO", "CT", "UT", "VA"})

# Section 7.
SECURITY_STANDARDS = ("ISO/IEC 27001:2013", "ISO/IEC 27701:2019")

# Section 10.
CHILDREN_AGE_THRESHOLD = 16
CHILDREN_PHRASE = "under 16"

# Section 12.
CONTACT_EMAIL = "cs@miniso-na.com"
CONTACT_ADDRESS = "1050 Lakes Dr., Ste 250, West Covina, CA 91790"
# The page prints the address on lines (street; city, state and ZIP code): look for each line.
CONTACT_ADDRESS_LINES = ("1050 Lakes Dr., Ste 250", "West Covina, CA 91790")

# Section 13.
CHANGE_NOTICE_METHODS = frozenset({"email", "website_notice"})
