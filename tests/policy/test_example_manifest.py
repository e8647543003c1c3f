"""The example manifest encodes the whole reference policy: every item of `reference_text`."""

from __future__ import annotations

import json
from datetime import date

import pytest

from privacyops.policy.loader import LoadedManifest, load_manifest_file
from privacyops.policy.manifest import PolicyManifest, Recipient
from tests.conftest import EXAMPLE_POLICY
from tests.policy import reference_text as ref


@pytest.fixture(scope="module")
def loaded() -> LoadedManifest:
    return load_manifest_file(EXAMPLE_POLICY)


@pytest.fixture(scope="module")
def manifest(loaded: LoadedManifest) -> PolicyManifest:
    assert loaded.manifest is not None, [p.render() for p in loaded.problems]
    return loaded.manifest


@pytest.fixture(scope="module")
def manifest_text(manifest: PolicyManifest) -> str:
    """Every string of the manifest, lower-cased: what a page generated from it can show."""
    return json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False).lower()


def _ids(items: tuple[object, ...], attr: str = "key") -> list[str]:
    return [str(getattr(item, attr)) for item in items]


def _recipient(manifest: PolicyManifest, key: str) -> Recipient:
    found = next((r for r in manifest.recipients if r.key == key), None)
    assert found is not None, f"recipient {key!r} is not in the manifest"
    return found


# --- the file as a whole -------------------------------------------------------------------


def test_example_loads_without_errors(loaded: LoadedManifest) -> None:
    assert [p.render() for p in loaded.errors] == []
    assert loaded.ok


def test_example_has_no_warnings_without_the_law_check(loaded: LoadedManifest) -> None:
    assert [p.render() for p in loaded.warnings] == []


def test_organization_and_dates(manifest: PolicyManifest) -> None:
    assert manifest.last_updated == ref.LAST_UPDATED
    assert manifest.organization.name == ref.ORGANIZATION
    assert manifest.organization.email == ref.CONTACT_EMAIL
    assert manifest.organization.postal_address.one_line() == ref.CONTACT_ADDRESS
    address = manifest.organization.postal_address
    assert (address.street, f"{address.city}, {address.region} {address.postal_code}") == (
        ref.CONTACT_ADDRESS_LINES
    )
    assert {"email", "postal_mail"} <= set(manifest.organization.contact_methods)


@pytest.mark.parametrize("section", ref.SECTIONS, ids=lambda s: f"{s.number}-{s.title}")
def test_every_section_has_content(manifest: PolicyManifest, section: ref.Section) -> None:
    value: object = manifest
    for part in section.field.split("."):
        value = getattr(value, part)
    assert value, f"section {section.number} ({section.title}) is empty: {section.field}"


# --- section 1 and 2: categories and sources -----------------------------------------------


def test_eleven_categories_plus_special_ones(manifest: PolicyManifest) -> None:
    expected = [item.key for item in ref.CATEGORIES] + [ref.SPECIAL_CATEGORIES.key]
    assert [c.key for c in manifest.data_categories] == expected


@pytest.mark.parametrize("item", ref.CATEGORIES, ids=_ids(ref.CATEGORIES))
def test_category(manifest: PolicyManifest, item: ref.Item) -> None:
    category = manifest.category(item.key)
    assert category is not None
    assert category.name == item.phrase
    assert category.sensitive is False


def test_special_categories_only_for_market_analysis(manifest: PolicyManifest) -> None:
    special = manifest.category(ref.SPECIAL_CATEGORIES.key)
    assert special is not None
    assert special.sensitive is True
    assert special.permitted_purposes == [ref.SPECIAL_CATEGORIES_PURPOSE.key]
    assert manifest.special_categories.actively_collected is False
    assert manifest.special_categories.used_for_identification is False
    users = [p.key for p in manifest.purposes if special.key in p.data_categories]
    assert users == [ref.SPECIAL_CATEGORIES_PURPOSE.key]


def test_special_categories_never_used_for_identification(manifest: PolicyManifest) -> None:
    sensitive = {c.key for c in manifest.data_categories if c.sensitive}
    identifying = [
        p.key
        for p in manifest.purposes
        if sensitive & set(p.data_categories)
        and (
            p.identifies_person
            or any(u.startswith("essential.service.authentication") for u in p.data_uses)
        )
    ]
    assert identifying == []


@pytest.mark.parametrize("item", ref.SOURCES, ids=_ids(ref.SOURCES))
def test_source(manifest: PolicyManifest, item: ref.Item) -> None:
    source = next((s for s in manifest.sources if s.key == item.key), None)
    assert source is not None
    assert source.name == item.phrase
    assert any(item.key in c.sources for c in manifest.data_categories), "no category uses it"


def test_nine_sources(manifest: PolicyManifest) -> None:
    assert [s.key for s in manifest.sources] == [item.key for item in ref.SOURCES]


@pytest.mark.parametrize("item", ref.COLLECTION_APPROACHES, ids=_ids(ref.COLLECTION_APPROACHES))
def test_collection_approach(manifest: PolicyManifest, item: ref.Item) -> None:
    assert any(item.key in s.methods for s in manifest.sources)


def test_facebook_instagram_tiktok_named(manifest: PolicyManifest) -> None:
    website = next(s for s in manifest.sources if s.key == "websites_social_media")
    for network in ("Facebook", "Instagram", "TikTok"):
        assert network in website.description


# --- section 3: purposes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "item", [*ref.PURPOSES, ref.SPECIAL_CATEGORIES_PURPOSE], ids=[*_ids(ref.PURPOSES), "special"]
)
def test_purpose(manifest: PolicyManifest, item: ref.Purpose) -> None:
    purpose = manifest.purpose(item.key)
    assert purpose is not None
    assert any(u == item.data_use or u.startswith(item.data_use + ".") for u in purpose.data_uses)


@pytest.mark.parametrize("item", ref.PURPOSES, ids=_ids(ref.PURPOSES))
def test_purpose_keeps_the_policy_name(manifest: PolicyManifest, item: ref.Purpose) -> None:
    purpose = manifest.purpose(item.key)
    assert purpose is not None
    assert purpose.name == item.phrase


def test_new_purposes_need_consent_first(manifest: PolicyManifest) -> None:
    assert manifest.new_purposes.requires_consent is True


# --- section 5: recipients -----------------------------------------------------------------


@pytest.mark.parametrize("item", ref.RECIPIENT_CLASSES, ids=_ids(ref.RECIPIENT_CLASSES))
def test_recipient_class(manifest: PolicyManifest, item: ref.RecipientClass) -> None:
    recipient = _recipient(manifest, item.key)
    assert (recipient.name, recipient.kind.value, recipient.share) == (
        item.phrase,
        item.kind,
        item.share,
    )


@pytest.mark.parametrize("key", [r.key for r in ref.RECIPIENT_CLASSES])
def test_no_recipient_is_a_sale(manifest: PolicyManifest, key: str) -> None:
    assert _recipient(manifest, key).sale is False


def test_sells_nothing_but_shares_for_targeted_advertising(manifest: PolicyManifest) -> None:
    assert manifest.sharing.sells_personal_information is False
    # Section 9's interest-based advertising by third parties is "sharing" (CCPA 1798.140(ah)).
    assert manifest.sharing.shares_for_targeted_advertising is True
    assert [r.key for r in manifest.recipients if r.sale] == []


def test_other_third_parties_need_consent(manifest: PolicyManifest) -> None:
    assert _recipient(manifest, "third_parties_with_consent").requires_consent is True


def test_every_recipient_is_a_class_of_the_text(manifest: PolicyManifest) -> None:
    assert sorted(r.key for r in manifest.recipients) == sorted(
        r.key for r in ref.RECIPIENT_CLASSES
    )


# --- sections 6, 7, 10, 11, 13 -------------------------------------------------------------


def test_stored_in_the_united_states(manifest: PolicyManifest) -> None:
    assert [loc.country for loc in manifest.location.locations] == ["US"]


def test_security_standards(manifest: PolicyManifest) -> None:
    standards = [s for m in manifest.security_measures for s in m.standards]
    for standard in ref.SECURITY_STANDARDS:
        assert standard in standards


def test_children_threshold(manifest: PolicyManifest) -> None:
    assert manifest.children.age_threshold == ref.CHILDREN_AGE_THRESHOLD
    assert manifest.children.older_where_law_requires is True
    assert manifest.children.rule == "parental_consent_or_delete"


@pytest.mark.parametrize("key", [c.key for c in (*ref.CATEGORIES, ref.SPECIAL_CATEGORIES)])
def test_every_category_has_retention(manifest: PolicyManifest, key: str) -> None:
    rules = [r for r in manifest.retention.schedule if r.category == key]
    assert len(rules) == 1, f"category {key!r} needs exactly one retention rule"
    assert rules[0].reason


def test_change_notice(manifest: PolicyManifest) -> None:
    assert manifest.changes.notice_days == 30
    assert set(manifest.changes.notice_methods) == ref.CHANGE_NOTICE_METHODS
    assert manifest.earliest_material_change(date(2026, 1, 1)) == date(2026, 1, 31)


# --- sections 8, 9 and 14: rights and advertising ------------------------------------------


@pytest.mark.parametrize("item", ref.EVERYONE_RIGHTS, ids=_ids(ref.EVERYONE_RIGHTS))
def test_right_of_everyone(manifest: PolicyManifest, item: ref.Item) -> None:
    assert item.key in manifest.rights.everyone


def test_exactly_the_named_states_and_nevada(manifest: PolicyManifest) -> None:
    expected = [s.code for s in ref.STATES] + [ref.NEVADA.code]
    assert [j.state for j in manifest.rights.jurisdictions] == expected


@pytest.mark.parametrize(
    "state", [*ref.STATES, ref.NEVADA], ids=_ids((*ref.STATES, ref.NEVADA), "code")
)
def test_state_rights(manifest: PolicyManifest, state: ref.State) -> None:
    jurisdiction = manifest.jurisdiction(state.code)
    assert jurisdiction is not None
    assert jurisdiction.law
    assert set(jurisdiction.rights) == state.rights
    assert {e.right for e in jurisdiction.exceptions} == state.exceptions


@pytest.mark.parametrize(
    "exception", ref.EXCEPTIONS, ids=[f"{e.state}-{e.right}" for e in ref.EXCEPTIONS]
)
def test_exception_quotes_the_policy(
    manifest: PolicyManifest, exception: ref.RightException
) -> None:
    jurisdiction = manifest.jurisdiction(exception.state)
    assert jurisdiction is not None
    found = [e for e in jurisdiction.exceptions if e.right == exception.right]
    assert len(found) == 1
    assert exception.phrase in found[0].statement


def test_nevada_sale_notice_list(manifest: PolicyManifest) -> None:
    assert manifest.rights.nevada_sale_notice_list is True
    assert manifest.rights.nevada_statement is not None
    assert ref.NEVADA_PHRASE in manifest.rights.nevada_statement


def test_supplemental_policy_states(manifest: PolicyManifest) -> None:
    assert set(manifest.rights.supplemental_policy_states) == ref.SUPPLEMENTAL_POLICY_STATES


def test_marketing_email_has_an_unsubscribe_link(manifest: PolicyManifest) -> None:
    email = next(c for c in manifest.advertising.marketing_channels if c.channel == "email")
    assert "unsubscribe_link" in email.unsubscribe
    assert manifest.advertising.transactional_messages_continue is True


def test_promotions_use_name_and_likeness(manifest: PolicyManifest) -> None:
    practices = {p.key: p for p in manifest.advertising.practices}
    assert set(practices) == {"promotions", "interest_based_advertising", "social_media_features"}
    assert practices["promotions"].uses_name_and_likeness is True
    assert "third_party_advertising_companies" in practices["interest_based_advertising"].recipients


# --- the words a page generated from the manifest can show ---------------------------------

_PHRASES: list[tuple[str, str]] = [
    *((f"category-{i.key}", i.phrase) for i in (*ref.CATEGORIES, ref.SPECIAL_CATEGORIES)),
    *((f"source-{i.key}", i.phrase) for i in ref.SOURCES),
    *((f"approach-{i.key}", i.phrase) for i in ref.COLLECTION_APPROACHES),
    *((f"purpose-{i.key}", i.phrase) for i in (*ref.PURPOSES, ref.SPECIAL_CATEGORIES_PURPOSE)),
    ("new-purposes", ref.NEW_PURPOSES.phrase),
    *((f"recipient-{i.key}", i.phrase) for i in ref.RECIPIENT_CLASSES),
    *((f"right-{i.key}", i.phrase) for i in ref.EVERYONE_RIGHTS),
    *((f"state-right-{i.key}", i.phrase) for i in ref.STATE_RIGHTS),
    *((f"state-{s.code}", s.name) for s in ref.STATES),
    *((f"exception-{e.state}-{e.right}", e.phrase) for e in ref.EXCEPTIONS),
    ("nevada", ref.NEVADA_PHRASE),
    ("children", ref.CHILDREN_PHRASE),
    ("email", ref.CONTACT_EMAIL),
]


@pytest.mark.parametrize(("name", "phrase"), _PHRASES, ids=[name for name, _ in _PHRASES])
def test_phrase_is_in_the_manifest(manifest_text: str, name: str, phrase: str) -> None:
    assert phrase.lower() in manifest_text
