"""Every faulty manifest gets its exact message, with file, line and field; the fixture is valid.

Each case mutates `fixtures/minimal-policy.yaml` by replacing text, so line numbers stay those of
the fixture and the expected messages can be read against it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from privacyops.policy.loader import load_manifest_text
from privacyops.policy.validation import check_document, check_manifest

FIXTURE = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"
BASE = FIXTURE.read_text(encoding="utf-8")

SENSITIVE_TRANSACTIONS = (
    "    fides_keys: [user.behavior.purchase_history]\n    sources: [website]\n",
    "    fides_keys: [user.behavior.purchase_history]\n    sources: [website]\n"
    "    sensitive: true\n",
)
RECIPIENT_END = "    purposes: [provide_services]\nlocation:"


def mutate(*replacements: tuple[str, str]) -> str:
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, f"the fixture must contain {old!r} exactly once"
        text = text.replace(old, new)
    return text


def problems(text: str) -> list[str]:
    return [p.render() for p in load_manifest_text(text, "policy.yaml").problems]


CASES = [
    pytest.param(
        [
            (
                "[user.contact.email, user.contact.address]",
                "[user.contact.emial, user.contact.address]",
            )
        ],
        [
            "policy.yaml:27: data_categories[0].fides_keys[0]: unknown data category key "
            "'user.contact.emial': not in fideslang's default taxonomy nor "
            "taxonomy_extensions.data_categories; did you mean 'user.contact.email'?"
        ],
        id="unknown-data-category-key",
    ),
    pytest.param(
        [("[essential.service]", "[essential.servise]")],
        [
            "policy.yaml:42: purposes[0].data_uses[0]: unknown data use key 'essential.servise': "
            "not in fideslang's default taxonomy nor taxonomy_extensions.data_uses; "
            "did you mean 'essential.service'?"
        ],
        id="unknown-data-use-key",
    ),
    pytest.param(
        [("data_subjects: [customer]", "data_subjects: [shopper]")],
        [
            "policy.yaml:16: data_subjects[0]: unknown data subject key 'shopper': "
            "not in fideslang's default taxonomy"
        ],
        id="unknown-data-subject-key",
    ),
    pytest.param(
        [("[contact]\n    requires_consent", "[contacts]\n    requires_consent")],
        [
            "policy.yaml:50: purposes[1].data_categories[0]: purpose 'email_marketing' uses "
            "category 'contacts', which the policy does not declare (in data_categories)"
        ],
        id="purpose-uses-undeclared-category",
    ),
    pytest.param(
        [SENSITIVE_TRANSACTIONS, ("[essential.service]", "[essential.service.authentication]")],
        [
            "policy.yaml:45: purposes[0].data_categories[1]: special category used for "
            "identification: sensitive category 'transactions' is used by purpose "
            "'provide_services', which has the identification data use "
            "'essential.service.authentication', while the policy says special categories are "
            "not used for identification (special_categories.used_for_identification: false)"
        ],
        id="special-category-used-for-identification",
    ),
    pytest.param(
        [
            SENSITIVE_TRANSACTIONS,
            (
                "    legal_basis: contract\n",
                "    legal_basis: contract\n    identifies_person: true\n",
            ),
        ],
        [
            "policy.yaml:46: purposes[0].data_categories[1]: special category used for "
            "identification: sensitive category 'transactions' is used by purpose "
            "'provide_services', which identifies a person (identifies_person: true), while the "
            "policy says special categories are not used for identification "
            "(special_categories.used_for_identification: false)"
        ],
        id="special-category-used-by-identifying-purpose",
    ),
    pytest.param(
        [(RECIPIENT_END, "    purposes: [provide_services]\n    sale: true\nlocation:")],
        [
            "policy.yaml:78: recipients[0].sale: recipient 'payment_provider' is marked as a sale, "
            "but the policy says it sells no personal information "
            "(sharing.sells_personal_information: false)"
        ],
        id="sale-while-selling-nothing",
    ),
    pytest.param(
        [(RECIPIENT_END, "    purposes: [provide_services]\n    share: true\nlocation:")],
        [
            "policy.yaml:78: recipients[0].share: recipient 'payment_provider' is marked as "
            "sharing for targeted advertising, but the policy says it does not share for "
            "targeted advertising (sharing.shares_for_targeted_advertising: false)"
        ],
        id="share-while-sharing-nothing",
    ),
    pytest.param(
        [("period: P3Y", "period: 3 years")],
        [
            "policy.yaml:117: retention.schedule[0].period: '3 years' is not an ISO 8601 duration "
            "of years, months, weeks or days (for example P3Y, P18M or P30D)"
        ],
        id="unparseable-duration",
    ),
    pytest.param(
        [("lifetime: session", "lifetime: forever")],
        [
            "policy.yaml:65: cookies.classes[0].cookies[0].lifetime: 'forever' is not an ISO 8601 "
            "duration of years, months, weeks or days (for example P3Y, P18M or P30D), "
            "nor 'session'"
        ],
        id="unparseable-cookie-lifetime",
    ),
    pytest.param(
        [("    - state: CA", "    - state: ZZ")],
        [
            "policy.yaml:96: rights.jurisdictions[0].state: unknown US state code 'ZZ' "
            "(use a two-letter code such as CA)"
        ],
        id="unknown-state",
    ),
    pytest.param(
        [("title: Example Shop Privacy Policy", "title: [Example Shop Privacy Policy")],
        ["policy.yaml:4: (yaml): malformed YAML: did not find expected ',' or ']'"],
        id="malformed-yaml",
    ),
    pytest.param(
        [
            (
                "title: Example Shop Privacy Policy\n",
                "title: Example Shop Privacy Policy\ntitle: Shop\n",
            )
        ],
        ["policy.yaml:4: title: duplicate key: the same key appears twice in this mapping"],
        id="duplicate-mapping-key",
    ),
    pytest.param(
        [
            (
                "    methods: [provided_by_person, automatic]\n",
                "    methods: [provided_by_person, automatic]\n  - key: website\n"
                "    name: Shop\n    description: Our shop.\n    methods: [provided_by_person]\n",
            )
        ],
        [
            "policy.yaml:23: sources[1].key: duplicate source key 'website': "
            "already used at sources[0]"
        ],
        id="duplicate-source-key",
    ),
    pytest.param(
        [("    legal_basis: contract\n", "")],
        ["policy.yaml:39: purposes[0].legal_basis: required field is missing"],
        id="missing-required-field",
    ),
    pytest.param(
        [("  email: privacy@example.com\n", "  email: privacy@example.com\n  colour: blue\n")],
        ["policy.yaml:9: organization.colour: unknown field (not part of the manifest format)"],
        id="unknown-field",
    ),
    pytest.param(
        [("notice_days: 30", "notice_days: thirty")],
        ["policy.yaml:126: changes.notice_days: 'thirty' is not a whole number"],
        id="wrong-type",
    ),
    pytest.param(
        [
            (
                "legal_basis: contract\n    data_categories: [contact,",
                "legal_basis: contract\n    data_categories: [Contact,",
            )
        ],
        [
            "policy.yaml:44: purposes[0].data_categories[0]: 'Contact' is not a valid key: use "
            "lowercase letters, digits and underscores, starting with a letter"
        ],
        id="malformed-key-reported-once",
    ),
    pytest.param(
        [
            (
                "fides_keys: [user.behavior.purchase_history]",
                "fides_keys: [user.behavior.purchase_history, user.demographic.religious_belief]",
            )
        ],
        [
            "policy.yaml:32: data_categories[1].fides_keys[1]: 'user.demographic.religious_belief' "
            "is a special category of personal data; category 'transactions' must be marked "
            "sensitive: true"
        ],
        id="special-category-not-flagged-sensitive",
    ),
    pytest.param(
        [
            (
                SENSITIVE_TRANSACTIONS[0],
                SENSITIVE_TRANSACTIONS[1] + "    permitted_purposes: [email_marketing]\n",
            )
        ],
        [
            "policy.yaml:46: purposes[0].data_categories[1]: sensitive category 'transactions' "
            "may only be used for its permitted purposes ('email_marketing'); purpose "
            "'provide_services' is not one of them"
        ],
        id="sensitive-category-outside-permitted-purposes",
    ),
    pytest.param(
        [("    requires_consent: true\nnew_purposes", "new_purposes")],
        [
            "policy.yaml:45: purposes[1].requires_consent: purpose 'email_marketing' has legal "
            "basis consent, so consent must be asked before processing: set requires_consent: true"
        ],
        id="consent-purpose-without-consent",
    ),
    pytest.param(
        [
            (
                "    - category: transactions\n      period: P7Y\n      starts: transaction\n"
                "      reason: Tax and accounting records.\n",
                "",
            )
        ],
        [
            "policy.yaml:29: data_categories[1].key: category 'transactions' has no retention "
            "rule in retention.schedule"
        ],
        id="category-without-retention",
    ),
    pytest.param(
        [
            (
                "opt_out_sharing, limit_sensitive]\n",
                "opt_out_sharing, limit_sensitive]\n      exceptions:\n"
                "        - right: correction\n          statement: Not in California.\n",
            )
        ],
        [
            "policy.yaml:100: rights.jurisdictions[0].exceptions[0].right: 'correction' is both "
            "granted (in rights) and an exception for California; keep one"
        ],
        id="exception-also-granted",
    ),
    pytest.param(
        [
            (
                "    sources: [website]\n  - key: transactions",
                "    sources: [stores]\n  - key: transactions",
            )
        ],
        [
            "policy.yaml:28: data_categories[0].sources[0]: category 'contact' comes from source "
            "'stores', which the policy does not declare (in sources)"
        ],
        id="category-from-undeclared-source",
    ),
    pytest.param(
        [(RECIPIENT_END, "    purposes: [provide_services]\n    location: eu\nlocation:")],
        [
            "policy.yaml:78: recipients[0].location: recipient 'payment_provider' is stored in "
            "location 'eu', which the policy does not declare (in location.locations)"
        ],
        id="recipient-in-unknown-location",
    ),
    pytest.param(
        [
            (
                "data_subjects: [customer]\n",
                "data_subjects: [customer]\ntaxonomy_extensions:\n  data_categories:\n"
                "    - fides_key: user.contact.email\n      parent_key: user.contact\n"
                "      name: Email\n      description: Again.\n"
                "    - fides_key: user.loyalty.member_id\n      parent_key: user.loyalty\n"
                "      name: Loyalty id\n      description: Member number.\n",
            )
        ],
        [
            "policy.yaml:19: taxonomy_extensions.data_categories[0].fides_key: "
            "'user.contact.email' is already a data category key of fideslang's default "
            "taxonomy; remove it from taxonomy_extensions.data_categories",
            "policy.yaml:24: taxonomy_extensions.data_categories[1].parent_key: parent "
            "'user.loyalty' is not a known data category key (fideslang's default taxonomy or "
            "taxonomy_extensions.data_categories); did you mean 'user.location'?",
        ],
        id="bad-taxonomy-extensions",
    ),
    pytest.param(
        [
            (
                "  classes:\n",
                "  classes:\n    - class: advertising\n      description: Ads.\n"
                "      optional: false\n",
            )
        ],
        [
            "policy.yaml:61: cookies.classes[0].optional: advertising cookies must be optional: "
            "visitors may refuse them"
        ],
        id="advertising-cookies-not-optional",
    ),
    pytest.param(
        # Two structural problems and two cross-reference problems: all four, in line order.
        [
            ("period: P3Y", "period: 3 years"),
            ("[contact]\n    requires_consent", "[contacts]\n    requires_consent"),
            ("[essential.service]", "[essential.servise]"),
            ("lifetime: session", "lifetime: forever"),
        ],
        [
            "policy.yaml:42: purposes[0].data_uses[0]: unknown data use key 'essential.servise': "
            "not in fideslang's default taxonomy nor taxonomy_extensions.data_uses; "
            "did you mean 'essential.service'?",
            "policy.yaml:50: purposes[1].data_categories[0]: purpose 'email_marketing' uses "
            "category 'contacts', which the policy does not declare (in data_categories)",
            "policy.yaml:65: cookies.classes[0].cookies[0].lifetime: 'forever' is not an ISO 8601 "
            "duration of years, months, weeks or days (for example P3Y, P18M or P30D), "
            "nor 'session'",
            "policy.yaml:117: retention.schedule[0].period: '3 years' is not an ISO 8601 duration "
            "of years, months, weeks or days (for example P3Y, P18M or P30D)",
        ],
        id="every-problem-at-once",
    ),
]


def test_minimal_fixture_is_valid() -> None:
    loaded = load_manifest_text(BASE, "policy.yaml")
    assert loaded.problems == []
    assert loaded.ok


@pytest.mark.parametrize(("replacements", "expected"), CASES)
def test_faulty_manifest(replacements: list[tuple[str, str]], expected: list[str]) -> None:
    loaded = load_manifest_text(mutate(*replacements), "policy.yaml")
    assert [p.render() for p in loaded.problems] == expected
    assert not loaded.ok


def test_not_a_mapping() -> None:
    assert problems("- just\n- a list\n") == [
        "policy.yaml:1: (document): a policy manifest must be a YAML mapping"
    ]


def test_special_categories_may_identify_when_the_policy_says_so() -> None:
    text = mutate(
        SENSITIVE_TRANSACTIONS,
        ("[essential.service]", "[essential.service.authentication]"),
        ("used_for_identification: false", "used_for_identification: true"),
    )
    assert problems(text) == []


def test_taxonomy_extension_is_a_known_key() -> None:
    text = mutate(
        (
            "data_subjects: [customer]\n",
            "data_subjects: [customer]\ntaxonomy_extensions:\n  data_categories:\n"
            "    - fides_key: user.contact.loyalty_id\n      parent_key: user.contact\n"
            "      name: Loyalty id\n      description: Member number.\n",
        ),
        (
            "[user.contact.email, user.contact.address]",
            "[user.contact.email, user.contact.loyalty_id]",
        ),
    )
    assert problems(text) == []


def test_check_manifest_and_check_document_agree() -> None:
    loaded = load_manifest_text(mutate(("[essential.service]", "[essential.servise]")), "p.yaml")
    assert loaded.manifest is not None
    raw = yaml.safe_load(loaded.text)
    assert check_manifest(loaded.manifest) == check_document(raw)
    assert len(check_document(raw)) == 1


def test_check_document_tolerates_anything() -> None:
    assert check_document(None) == []
    assert check_document({"purposes": "none", "data_categories": [1, None, {"key": 3}]}) == []
