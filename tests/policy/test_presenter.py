"""The presenter turns a manifest into the 14 sections readers see; no database needed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from privacyops.policy import presenter
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.presenter import (
    ContactView,
    CookieRow,
    RetentionRow,
    StateRightsView,
    VersionNotice,
)

MINIMAL = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"


def minimal_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MINIMAL.read_text())
    return data


def manifest(data: dict[str, Any] | None = None) -> PolicyManifest:
    return PolicyManifest.model_validate(data if data is not None else minimal_data())


def test_sections_follow_the_reference_policy() -> None:
    view = presenter.present_policy(manifest())

    assert [(s.number, s.title, s.anchor) for s in view.sections][:2] == [
        (1, "Personal Information We Collect", "section-1"),
        (2, "How We Collect Personal Information", "section-2"),
    ]
    assert [s.title for s in view.sections] == list(presenter.SECTION_TITLES)
    assert len(view.sections) == 14
    assert view.sections[13].partial == "policy/state_rights.html"
    assert view.last_updated == date(2026, 1, 15)


def test_categories_flag_sensitive_ones() -> None:
    data = minimal_data()
    data["data_categories"][1]["sensitive"] = True

    view = presenter.collection_view(manifest(data))

    assert [(c.name, c.notes) for c in view.categories] == [
        ("Contact information", ()),
        ("Transaction information", ("Sensitive personal information",)),
    ]
    assert view.special_categories_statement == "We do not collect special categories."


def test_sources_say_how_in_the_order_of_section_1() -> None:
    data = minimal_data()
    data["sources"][0]["methods"] = ["other_sources", "provided_by_person"]

    sources = presenter.sources_view(manifest(data)).sources

    assert sources[0].notes == ("How: you give it to us; we obtain it from other sources.",)


def test_purposes_name_the_legal_basis_in_plain_words() -> None:
    rows = presenter.purposes_view(manifest()).purposes

    assert [(p.name, p.legal_basis, p.categories, p.requires_consent) for p in rows] == [
        (
            "Provide our services",
            "To enter into or perform a contract with you",
            ("Contact information", "Transaction information"),
            False,
        ),
        ("Email marketing", "Your consent", ("Contact information",), True),
    ]


@pytest.mark.parametrize(
    ("lifetime", "words"),
    [
        ("session", "Until you close your browser (session)"),
        ("P1Y", "1 year"),
        ("P2Y6M", "2 years, 6 months"),
        ("P30D", "30 days"),
    ],
)
def test_cookie_lifetimes_in_words(lifetime: str, words: str) -> None:
    assert presenter.describe_lifetime(lifetime) == words


def test_cookie_rows() -> None:
    view = presenter.cookies_view(manifest())

    assert [(c.name, c.choice) for c in view.classes] == [("Essential cookies", "Always on")]
    assert view.classes[0].cookies == (
        CookieRow(
            "session",
            "Example Shop",
            "Until you close your browser (session)",
            "Keeps you signed in.",
            "First party",
        ),
    )


def test_recipients_are_grouped_by_kind_with_what_they_receive() -> None:
    data = minimal_data()
    data["recipients"].insert(
        0,
        {
            "key": "ad_partner",
            "name": "Ad partner",
            "kind": "third_party",
            "description": "Shows our ads.",
            "data_categories": ["contact"],
            "purposes": ["email_marketing"],
            "share": True,
            "requires_consent": True,
        },
    )
    data["sharing"]["shares_for_targeted_advertising"] = True

    groups = presenter.sharing_view(manifest(data)).groups

    assert [(g.kind, [r.name for r in g.recipients]) for g in groups] == [
        ("Service providers", ["Payment provider"]),
        ("Other third parties", ["Ad partner"]),
    ]
    assert groups[1].recipients[0].notes == (
        "What they receive: Contact information.",
        "Only with your consent.",
        "This disclosure is sharing for cross-context behavioral advertising.",
    )


def test_security_standards_become_a_note() -> None:
    data = minimal_data()
    data["security_measures"][0]["standards"] = ["ISO/IEC 27001:2013", "ISO/IEC 27701:2019"]

    measures = presenter.security_view(manifest(data)).measures

    assert measures[0].notes == ("Standards: ISO/IEC 27001:2013, ISO/IEC 27701:2019.",)


def test_rights_and_how_to_unsubscribe() -> None:
    data = minimal_data()
    data["advertising"]["marketing_channels"][0]["unsubscribe"] = [
        "unsubscribe_link",
        "one_click_header",
        "contact_us",
    ]

    view = presenter.rights_view(manifest(data))

    assert view.rights == (
        "Access your personal information",
        "Correct inaccurate personal information",
        "Delete your personal information",
        "Unsubscribe from marketing messages",
    )
    channel = view.channels[0]
    assert channel.name == "Email"
    assert channel.how_to_unsubscribe == (
        "the Unsubscribe link in our messages, your mail app's one-click unsubscribe button "
        "or contacting us"
    )
    assert channel.statement == "Use the Unsubscribe link in any email."
    assert view.transactional_messages_continue is True


def test_children_threshold() -> None:
    view = presenter.children_view(manifest())

    assert (view.age_threshold, view.older_where_law_requires) == (16, True)
    assert view.rule.startswith("We keep a child's personal information only with the verified")


def test_retention_in_words() -> None:
    assert presenter.retention_view(manifest()).rows == (
        RetentionRow(
            "Contact information",
            "3 years",
            "Your last activity with us",
            "Three years after your last order, for returns and support.",
        ),
        RetentionRow(
            "Transaction information",
            "7 years",
            "The date of the transaction",
            "Tax and accounting records.",
        ),
    )


def test_contact_details() -> None:
    assert presenter.contact_view(manifest()) == ContactView(
        statement="Write to us to exercise your rights.",
        organization="Example Shop",
        legal_name=None,
        email="privacy@example.com",
        address_lines=("Example Shop", "1 Main St.", "Springfield, CA 90001"),
        phone=None,
        website=None,
        website_href=None,
        methods=("Email", "Postal mail"),
    )


@pytest.mark.parametrize(
    ("website", "href"),
    [
        ("https://example.com", "https://example.com"),
        ("HTTP://example.com", "HTTP://example.com"),
        ("javascript:alert(1)", None),
        ("example.com", None),
    ],
)
def test_only_web_addresses_become_links(website: str, href: str | None) -> None:
    data = minimal_data()
    data["organization"]["website"] = website

    view = presenter.contact_view(manifest(data))

    assert (view.website, view.website_href) == (website, href)


def test_changes_notice() -> None:
    view = presenter.changes_view(manifest())

    assert view.notice_days == 30
    assert view.notice_by == "an email to the address on your account or a notice on this website"


def test_state_rights_table() -> None:
    data = minimal_data()
    data["rights"]["jurisdictions"].append(
        {
            "state": "UT",
            "law": "Utah Consumer Privacy Act",
            # Listed and named as an exception at once: the exception wins, the page says No.
            "rights": ["confirm", "access", "deletion", "correction", "opt_out_sale"],
            "exceptions": [{"right": "correction", "statement": "Not in Utah."}],
            "notes": "Utah has granted a right to correct since 2026-07-01.",
        }
    )
    data["rights"]["supplemental_policy_states"] = ["UT"]

    view = presenter.state_rights_view(manifest(data))

    assert isinstance(view, StateRightsView)
    assert view.columns == (
        "Confirm",
        "Access",
        "Deletion",
        "Correction",
        "Portability",
        "Opt out of targeted advertising",
        "Opt out of sale",
        "Opt out of sharing",
        "Opt out of profiling",
        "Limit sensitive data",
    )
    california, utah = view.rows
    assert (california.state, california.state_name) == ("CA", "California")
    assert california.cells == (True, True, True, True, True, False, True, True, False, True)
    assert utah.cells == (True, True, True, False, False, False, True, False, False, False)
    assert utah.notes == "Utah has granted a right to correct since 2026-07-01."
    assert [(e.state_name, e.right, e.statement) for e in view.exceptions] == [
        ("Utah", "Correct inaccurate personal information", "Not in Utah.")
    ]
    assert view.supplemental_policy_states == ("Utah",)
    assert (view.nevada_sale_notice_list, view.nevada_statement) == (False, None)


@pytest.mark.parametrize(
    ("number", "effective_on", "in_force", "status"),
    [
        (2, date(2026, 5, 1), (2, date(2026, 5, 1)), "in_force"),
        (1, date(2026, 1, 1), (2, date(2026, 5, 1)), "superseded"),
        (3, date(2026, 7, 1), (2, date(2026, 5, 1)), "scheduled"),
        (1, date(2026, 7, 1), None, "scheduled"),
    ],
)
def test_version_notice(
    number: int, effective_on: date, in_force: tuple[int, date] | None, status: str
) -> None:
    notice = presenter.version_notice(number, effective_on, date(2026, 6, 1), in_force)

    assert notice == VersionNotice(
        number,
        effective_on,
        status,  # type: ignore[arg-type]
        in_force[0] if in_force else None,
        in_force[1] if in_force else None,
    )
