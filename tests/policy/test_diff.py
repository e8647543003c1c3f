"""The material-change diff: every rule of section 13, and what is not material."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from privacyops.policy.diff import Change, diff_manifests
from privacyops.policy.manifest import PolicyManifest

FIXTURE = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"
Op = tuple[str, tuple[str | int, ...], Any]


def base_data() -> dict[str, Any]:
    """The minimal manifest as plain data, ready to be changed by a test."""
    data: dict[str, Any] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    return data


def apply(data: dict[str, Any], ops: tuple[Op, ...]) -> dict[str, Any]:
    """A copy of `data` with each op applied: set a value, append to a list, remove an item."""
    data = copy.deepcopy(data)
    for op, path, value in ops:
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "set":
            parent[last] = value
        elif op == "append":
            parent[last].append(value)
        elif op == "remove":
            parent[last].remove(value)
        elif op == "delete":
            del parent[last]
    return data


def changes(new_ops: tuple[Op, ...], old_ops: tuple[Op, ...] = ()) -> list[Change]:
    old = PolicyManifest.model_validate(apply(base_data(), old_ops))
    new = PolicyManifest.model_validate(apply(base_data(), old_ops + new_ops))
    return diff_manifests(old, new)


def at(found: list[Change], path: str) -> Change:
    matching = [c for c in found if c.path == path]
    assert len(matching) == 1, [c.path for c in found]
    return matching[0]


DEVICE = {
    "key": "device",
    "name": "Device information",
    "description": "Your device's IP address.",
    "fides_keys": ["user.device.ip_address"],
    "sources": ["website"],
}
RESEARCH = {
    "key": "research",
    "name": "Market research",
    "description": "Surveys.",
    "data_uses": ["analytics.reporting"],
    "legal_basis": "consent",
    "data_categories": ["contact"],
}
AD_PARTNER = {
    "key": "ad_partner",
    "name": "Advertising partner",
    "kind": "third_party",
    "description": "Shows our ads.",
    "data_categories": ["contact"],
    "purposes": ["email_marketing"],
}
VIRGINIA = {"state": "VA", "law": "Virginia Consumer Data Protection Act", "rights": ["access"]}

MORE_DATA = "more personal information is collected"
NEW_USE = "personal information is used in a new way"
MORE_SHARING = "personal information goes to more recipients"
SALE = "a sale or share of personal information starts"
FEWER_RIGHTS = "people lose a right the policy gave them"

MATERIAL_CASES = [
    pytest.param(
        (("append", ("data_categories",), DEVICE),),
        (),
        "data_categories[device]",
        "added",
        "new data category 'device' (Device information)",
        MORE_DATA,
        id="new category",
    ),
    pytest.param(
        (("append", ("data_categories", 0, "fides_keys"), "user.contact.phone_number"),),
        (),
        "data_categories[contact].fides_keys",
        "added",
        "data category 'contact' now covers 'user.contact.phone_number'",
        MORE_DATA,
        id="new fideslang key in a category",
    ),
    pytest.param(
        (("append", ("purposes",), RESEARCH),),
        (),
        "purposes[research]",
        "added",
        "new purpose 'research' (Market research)",
        NEW_USE,
        id="new purpose",
    ),
    pytest.param(
        (("append", ("purposes", 1, "data_categories"), "transactions"),),
        (),
        "purposes[email_marketing].data_categories",
        "added",
        "purpose 'email_marketing' now uses data category 'transactions'",
        NEW_USE,
        id="purpose uses a new category",
    ),
    pytest.param(
        (("append", ("purposes", 0, "data_uses"), "analytics.reporting"),),
        (),
        "purposes[provide_services].data_uses",
        "added",
        "purpose 'provide_services' now has data use 'analytics.reporting'",
        NEW_USE,
        id="purpose has a new data use",
    ),
    pytest.param(
        (("set", ("purposes", 1, "requires_consent"), False),),
        (),
        "purposes[email_marketing].requires_consent",
        "changed",
        "purpose 'email_marketing' no longer asks for consent first",
        NEW_USE,
        id="purpose no longer asks consent",
    ),
    pytest.param(
        (("append", ("recipients",), AD_PARTNER),),
        (),
        "recipients[ad_partner]",
        "added",
        "new recipient 'ad_partner' (Advertising partner)",
        MORE_SHARING,
        id="new recipient",
    ),
    pytest.param(
        (("append", ("recipients", 0, "data_categories"), "transactions"),),
        (("remove", ("recipients", 0, "data_categories"), "transactions"),),
        "recipients[payment_provider].data_categories",
        "added",
        "recipient 'payment_provider' now receives data category 'transactions'",
        MORE_SHARING,
        id="recipient receives a new category",
    ),
    pytest.param(
        (("set", ("recipients", 0, "sale"), True),),
        (),
        "recipients[payment_provider].sale",
        "changed",
        "personal information is now sold to recipient 'payment_provider'",
        SALE,
        id="sale started",
    ),
    pytest.param(
        (("set", ("recipients", 0, "share"), True),),
        (),
        "recipients[payment_provider].share",
        "changed",
        "personal information is now shared with recipient 'payment_provider' "
        "for targeted advertising",
        SALE,
        id="share started",
    ),
    pytest.param(
        (("set", ("sharing", "sells_personal_information"), True),),
        (),
        "sharing.sells_personal_information",
        "changed",
        "the policy now says personal information is sold",
        SALE,
        id="policy says it sells",
    ),
    pytest.param(
        (("set", ("sharing", "shares_for_targeted_advertising"), True),),
        (),
        "sharing.shares_for_targeted_advertising",
        "changed",
        "the policy now says personal information is shared for targeted advertising",
        SALE,
        id="policy says it shares",
    ),
    pytest.param(
        (("set", ("retention", "schedule", 0, "period"), "P3Y6M"),),
        (),
        "retention.schedule[contact].period",
        "changed",
        "retention of 'contact' lengthened from 3 years (P3Y) to 3 years, 6 months (P3Y6M)",
        "personal information is kept longer",
        id="longer retention",
    ),
    pytest.param(
        (("remove", ("rights", "everyone"), "deletion"),),
        (),
        "rights.everyone",
        "removed",
        "right 'deletion' removed for everyone",
        FEWER_RIGHTS,
        id="right removed for everyone",
    ),
    pytest.param(
        (("remove", ("rights", "jurisdictions", 0, "rights"), "correction"),),
        (),
        "rights.jurisdictions[CA].rights",
        "removed",
        "right 'correction' removed for CA residents",
        FEWER_RIGHTS,
        id="right removed in a state",
    ),
    pytest.param(
        (("delete", ("rights", "jurisdictions", 1), None),),
        (("append", ("rights", "jurisdictions"), VIRGINIA),),
        "rights.jurisdictions[VA]",
        "removed",
        "state rights of VA residents removed",
        FEWER_RIGHTS,
        id="state removed",
    ),
    pytest.param(
        (
            (
                "set",
                ("rights", "jurisdictions", 0, "exceptions"),
                [{"right": "correction", "statement": "No correction in California."}],
            ),
        ),
        (),
        "rights.jurisdictions[CA].exceptions[correction]",
        "added",
        "new exception for CA residents: the right correction is not granted",
        FEWER_RIGHTS,
        id="new exception",
    ),
    pytest.param(
        (("set", ("children", "age_threshold"), 13),),
        (),
        "children.age_threshold",
        "changed",
        "children's age threshold lowered from 16 to 13",
        "fewer children are protected",
        id="lower children's threshold",
    ),
    pytest.param(
        (("set", ("changes", "notice_days"), 10),),
        (),
        "changes.notice_days",
        "changed",
        "notice before a material change shortened from 30 to 10 days",
        "people get less notice of material changes",
        id="shorter notice",
    ),
    pytest.param(
        (("set", ("special_categories", "actively_collected"), True),),
        (),
        "special_categories.actively_collected",
        "changed",
        "special categories of personal information are now actively collected",
        MORE_DATA,
        id="special categories collected",
    ),
]


@pytest.mark.parametrize(
    ("new_ops", "old_ops", "path", "kind", "description", "reason"), MATERIAL_CASES
)
def test_material_change(
    new_ops: tuple[Op, ...],
    old_ops: tuple[Op, ...],
    path: str,
    kind: str,
    description: str,
    reason: str,
) -> None:
    found = changes(new_ops, old_ops)
    change = at(found, path)
    assert (change.kind, change.description, change.reason) == (kind, description, reason)
    assert change.material is True


MINOR_CASES = [
    pytest.param(
        (("set", ("title",), "Example Shop Privacy Notice"),),
        (),
        "title",
        "title changed from 'Example Shop Privacy Policy' to 'Example Shop Privacy Notice'",
        id="title",
    ),
    pytest.param(
        (("set", ("introduction",), "At Example Shop, we respect your privacy. " * 3),),
        (),
        "introduction",
        "introduction reworded",
        id="long wording",
    ),
    pytest.param(
        (("set", ("organization", "email"), "dpo@example.com"),),
        (),
        "organization.email",
        "organization.email changed from 'privacy@example.com' to 'dpo@example.com'",
        id="contact email",
    ),
    pytest.param(
        (("set", ("organization", "phone"), "+1 555 0100"),),
        (),
        "organization.phone",
        "organization.phone set to '+1 555 0100'",
        id="phone added",
    ),
    pytest.param(
        (
            (
                "append",
                ("cookies", "classes", 0, "cookies"),
                {"name": "csrf", "provider": "Example Shop", "lifetime": "session", "purpose": "x"},
            ),
        ),
        (),
        "cookies.classes[essential].cookies[csrf]",
        "cookie 'csrf' added",
        id="cookie added",
    ),
    pytest.param(
        (("set", ("retention", "schedule", 1, "period"), "P5Y"),),
        (),
        "retention.schedule[transactions].period",
        "retention.schedule[transactions].period changed from 'P7Y' to 'P5Y'",
        id="shorter retention",
    ),
    pytest.param(
        (("append", ("rights", "everyone"), "portability"),),
        (),
        "rights.everyone",
        "'portability' added to rights.everyone",
        id="right added",
    ),
    pytest.param(
        (("set", ("children", "age_threshold"), 18),),
        (),
        "children.age_threshold",
        "children.age_threshold changed from 16 to 18",
        id="higher children's threshold",
    ),
    pytest.param(
        (("set", ("changes", "notice_days"), 45),),
        (),
        "changes.notice_days",
        "changes.notice_days changed from 30 to 45",
        id="longer notice",
    ),
    pytest.param(
        (("delete", ("recipients", 1), None),),
        (("append", ("recipients",), AD_PARTNER),),
        "recipients[ad_partner]",
        "recipient 'ad_partner' (Advertising partner) removed",
        id="recipient removed",
    ),
    pytest.param(
        (("set", ("recipients", 0, "sale"), False),),
        (("set", ("recipients", 0, "sale"), True),),
        "recipients[payment_provider].sale",
        "recipients[payment_provider].sale changed from true to false",
        id="sale stopped",
    ),
    pytest.param(
        (("remove", ("purposes", 1, "data_categories"), "transactions"),),
        (("append", ("purposes", 1, "data_categories"), "transactions"),),
        "purposes[email_marketing].data_categories",
        "'transactions' removed from purposes[email_marketing].data_categories",
        id="purpose uses fewer categories",
    ),
]


@pytest.mark.parametrize(("new_ops", "old_ops", "path", "description"), MINOR_CASES)
def test_minor_change(
    new_ops: tuple[Op, ...], old_ops: tuple[Op, ...], path: str, description: str
) -> None:
    found = changes(new_ops, old_ops)
    assert len(found) == 1, [c.path for c in found]
    change = at(found, path)
    assert change.description == description
    assert (change.material, change.reason) == (False, None)


def test_identical_manifests_have_no_changes() -> None:
    assert changes(()) == []


def test_reordering_lists_is_no_change() -> None:
    data = base_data()
    reordered = copy.deepcopy(data)
    reordered["purposes"].reverse()
    reordered["data_categories"].reverse()
    reordered["retention"]["schedule"].reverse()
    reordered["rights"]["everyone"].reverse()
    reordered["purposes"][0]["data_categories"].reverse()
    reordered["organization"]["contact_methods"].reverse()
    old = PolicyManifest.model_validate(data)
    new = PolicyManifest.model_validate(reordered)
    assert diff_manifests(old, new) == []


def test_changes_come_in_manifest_order_with_values() -> None:
    found = changes(
        (
            ("set", ("children", "age_threshold"), 13),
            ("set", ("title",), "New title"),
            ("append", ("purposes",), RESEARCH),
            ("remove", ("purposes", 0, "data_categories"), "transactions"),
        )
    )
    assert [(c.path, c.kind, c.material) for c in found] == [
        ("title", "changed", False),
        ("purposes[provide_services].data_categories", "removed", False),
        ("purposes[research]", "added", True),
        ("children.age_threshold", "changed", True),
    ]
    assert (found[3].old, found[3].new) == (16, 13)
    assert found[1].old == "transactions"
    assert found[2].new == {**RESEARCH, "identifies_person": False, "requires_consent": False}


def test_a_new_item_is_one_change_not_one_per_field() -> None:
    found = changes((("append", ("data_categories",), DEVICE),))
    assert [c.path for c in found] == ["data_categories[device]"]
