"""Access and portability packages: the three formats, the disclosures, what is withheld."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacyops.connectors.datasets import check_dataset_text
from privacyops.connectors.graph import FieldInfo, FoundCollection, Graph, build_graph
from privacyops.dsr.packages import (
    FORMAT,
    NEVER_DISCLOSED,
    AccessPackage,
    PackageMeta,
    build_access_package,
    csv_cell,
    never_disclosed,
)
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest
from tests.conftest import EXAMPLE_POLICY
from tests.htmltree import parse

SHOP = """
dataset:
  - fides_key: tiny
    name: Tiny shop
    fides_meta: {location: united_states}
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: name
            data_categories: [user.name]
          - name: password_hash
            data_categories: [user.authorization.password]
          - name: created_at
          - name: note
            data_categories: [user.content.feedback]
      - name: payments
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: customer_id
            fides_meta:
              references: [{dataset: tiny, field: customers.id, direction: from}]
          - name: card_last4
            data_categories: [user.financial.credit_card]
          - name: card_brand
            data_categories: [user.payment]
          - name: amount
            data_categories: [user.payment]
          - name: receipt
            data_categories: [user.behavior.purchase_history]
"""

PASSWORD_HASH = "pbkdf2_sha256$600000$s4lt$QmVyeVNlY3JldEhhc2hWYWx1ZQ"
CARD_LAST4 = "4242"
WHEN = datetime(2024, 8, 1, 12, 30, tzinfo=UTC)


@cache
def manifest() -> PolicyManifest:
    loaded = load_manifest_file(EXAMPLE_POLICY).manifest
    assert loaded is not None
    return loaded


@cache
def graph() -> Graph:
    check = check_dataset_text(SHOP, "tiny.yaml", manifest())
    assert check.errors == [], check.errors
    return build_graph(check.datasets)


def meta(request_type: str = "access") -> PackageMeta:
    return PackageMeta.for_manifest(
        manifest(),
        request_id="req-123",
        request_type=request_type,
        generated_at=WHEN,
        policy_version=3,
        state="CA",
    )


def found(customer: dict[str, Any] | None = None, payments: int = 1) -> list[FoundCollection]:
    row = {
        "id": 7,
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "password_hash": PASSWORD_HASH,
        "created_at": datetime(2023, 5, 4, 3, 2, 1, tzinfo=UTC),
        "note": "Loves notebooks",
    }
    row.update(customer or {})
    pays = [
        {
            "id": 100 + i,
            "customer_id": 7,
            "card_last4": CARD_LAST4,
            "card_brand": "visa",
            "amount": Decimal("12.50"),
            "receipt": b"\x00\x01receipt",
        }
        for i in range(payments)
    ]
    nodes = graph().nodes
    return [
        FoundCollection(nodes[("tiny", "customers")], [row]),
        FoundCollection(nodes[("tiny", "payments")], pays),
    ]


def build(
    items: list[FoundCollection] | None = None, request_type: str = "access"
) -> AccessPackage:
    return build_access_package(found() if items is None else items, manifest(), meta(request_type))


def zip_members(package: AccessPackage) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package.csv_zip)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def unguard(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def document(package: AccessPackage) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(package.json.decode("utf-8"))
    return loaded


def category(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in doc["categories"] if c["key"] == key)


# --- JSON ----------------------------------------------------------------------------------


def test_json_has_the_documented_structure() -> None:
    doc = document(build())
    assert list(doc) == [
        "format",
        "request",
        "policy_version",
        "generated_at",
        "nothing_found",
        "datasets",
        "categories",
        "withheld",
    ]
    assert doc["format"] == FORMAT == "privacyops.access/1"
    assert doc["request"] == {
        "id": "req-123",
        "type": "access",
        "state": "CA",
        "organization": "Miniso USA",
    }
    assert doc["policy_version"] == 3
    assert datetime.fromisoformat(doc["generated_at"]) == WHEN
    assert doc["nothing_found"] is False
    assert set(doc["datasets"]) == {"tiny"}
    assert set(doc["datasets"]["tiny"]) == {"customers", "payments"}


def test_json_values_round_trip() -> None:
    doc = document(build())
    [customer] = doc["datasets"]["tiny"]["customers"]
    assert customer["email"] == "ada@example.com"
    assert customer["id"] == 7
    assert datetime.fromisoformat(customer["created_at"]) == datetime(
        2023, 5, 4, 3, 2, 1, tzinfo=UTC
    )
    [payment] = doc["datasets"]["tiny"]["payments"]
    assert Decimal(payment["amount"]) == Decimal("12.50")
    assert base64.b64decode(payment["receipt"]) == b"\x00\x01receipt"
    # Uncategorized fields stay with their row as context.
    assert payment["customer_id"] == 7


def test_generated_at_is_stored_in_utc() -> None:
    pacific = timezone(timedelta(hours=-7))
    local = PackageMeta("r", "portability", datetime(2024, 8, 1, 5, 30, tzinfo=pacific), 1, "Org")
    assert local.generated_at == WHEN
    assert local.generated_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"generated_at": datetime(2024, 8, 1)}, "generated_at"),
        ({"request_type": "deletion"}, "request_type"),
        ({"request_id": ""}, "request_id"),
        ({"policy_version": 0}, "policy_version"),
    ],
)
def test_bad_meta_names_the_field(changes: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {
        "request_id": "r",
        "request_type": "access",
        "generated_at": WHEN,
        "policy_version": 1,
        "organization": "Org",
    }
    with pytest.raises(ValueError, match=field):
        PackageMeta(**{**values, **changes})


# --- never disclosed -----------------------------------------------------------------------


def test_password_hash_and_card_digits_never_appear_in_any_format() -> None:
    package = build()
    outputs = [package.json, package.html, package.csv_zip, *zip_members(package).values()]
    for output in outputs:
        assert PASSWORD_HASH.encode() not in output
        assert b"s4lt" not in output
        assert CARD_LAST4.encode() not in output
    assert b"password_hash" not in zip_members(package)["tiny/customers.csv"]


def test_withheld_kinds_are_listed_plainly() -> None:
    package = build()
    doc = document(package)
    kinds = {w["kind"]: w for w in doc["withheld"]}
    assert set(kinds) == {"account_password", "payment_card"}
    password = kinds["account_password"]
    assert password["fields"] == ["tiny.customers.password_hash"]
    assert password["statement"].startswith("We hold your account password")
    assert "the law does not allow us to disclose it" in password["statement"]
    assert "7024(d)" in password["law"]
    assert password["categories"] == ["Credentials"]
    assert "password_hash" not in doc["datasets"]["tiny"]["customers"][0]
    assert category(doc, "credentials")["withheld_fields"] == ["tiny.customers.password_hash"]
    readme = zip_members(package)["README.txt"].decode()
    html = package.html.decode()
    for text in (readme, html):
        assert "We hold your account password" in text
        assert "We hold your payment card number (in full or in part)" in text
    omitted = {o.field: o.reason for o in package.omitted}
    assert "7024(d)" in omitted["tiny.customers.password_hash"]
    assert "tiny.payments.card_last4" in omitted
    assert package.counts.withheld_fields == 2


def test_a_withheld_field_with_no_value_is_not_mentioned() -> None:
    doc = document(build(found({"password_hash": None})))
    assert [w["kind"] for w in doc["withheld"]] == ["payment_card"]


@pytest.mark.parametrize(
    "key",
    [
        "user.authorization.password",
        "user.authorization.credentials",
        "user.government_id.passport_number",
        "user.financial.bank_account",
        "user.financial.credit_card",
        "user.biometric.fingerprint",
        "user.health_and_medical.insurance_beneficiary_id",
    ],
)
def test_never_disclosed_covers_the_regulation_kinds(key: str) -> None:
    rule = never_disclosed(FieldInfo("f", categories=("user.contact.email", key)))
    assert rule is not None
    assert key.startswith(rule.fides_key)


def test_never_disclosed_names_the_most_specific_kind_and_spares_the_rest() -> None:
    assert never_disclosed(FieldInfo("f", ("user.contact.email", "user.payment"))) is None
    rule = never_disclosed(FieldInfo("f", ("user.authorization.password",)))
    assert rule is not None
    assert rule.kind == "account_password"
    assert len({r.kind for r in NEVER_DISCLOSED}) == len(NEVER_DISCLOSED)


def test_undeclared_row_keys_are_left_out_and_said() -> None:
    package = build(found({"secret_answer": "my first pet was Rex"}))
    for output in (package.json, package.html, *zip_members(package).values()):
        assert b"Rex" not in output
    omitted = {o.field: o.reason for o in package.omitted}
    assert "not declared" in omitted["tiny.customers.secret_answer"]


# --- categories and disclosures ------------------------------------------------------------


def test_categories_carry_the_manifest_disclosures() -> None:
    doc = document(build())
    policy = manifest()
    contact = category(doc, "contact")
    assert contact["name"] == "Contact information"
    assert contact["fields"] == ["tiny.customers.email"]
    source_names = {s.key: s.name for s in policy.sources}
    declared = policy.category("contact")
    assert declared is not None
    assert [s["name"] for s in contact["sources"]] == [source_names[k] for k in declared.sources]
    assert [p["name"] for p in contact["purposes"]] == [
        p.name for p in policy.purposes if "contact" in p.data_categories
    ]
    assert [(r["name"], r["kind"]) for r in contact["recipients"]] == [
        (r.name, r.kind.value) for r in policy.recipients if "contact" in r.data_categories
    ]
    assert contact["retention"]["period"] == "P3Y"
    assert contact["retention"]["text"] == "3 years after your last activity"


def test_categories_follow_manifest_order_and_ancestors() -> None:
    doc = document(build())
    keys = [c["key"] for c in doc["categories"]]
    # user.name covers nothing deeper here, user.content.feedback sits under purchaser.
    assert keys == ["identity", "contact", "credentials", "payment", "transaction", "purchaser"]
    assert category(doc, "identity")["fields"] == ["tiny.customers.name"]
    assert "tiny.customers.note" in category(doc, "purchaser")["fields"]


def test_a_key_in_two_categories_is_grouped_once_and_disclosed_under_both() -> None:
    doc = document(build())
    # In the order the declaration gives its fields.
    payment, transaction = category(doc, "payment"), category(doc, "transaction")
    assert payment["fields"] == ["tiny.payments.card_brand", "tiny.payments.amount"]
    # user.behavior.purchase_history is in transaction first, then in purchaser.
    assert transaction["fields"] == ["tiny.payments.receipt"]
    assert transaction["also_covers"] == ["tiny.payments.card_brand", "tiny.payments.amount"]
    assert transaction["retention"]["period"] == "P7Y"
    assert [p["key"] for p in transaction["purposes"]]
    assert "tiny.payments.receipt" in category(doc, "purchaser")["also_covers"]


def test_a_category_with_no_value_held_is_not_listed() -> None:
    doc = document(build(found({"name": None})))
    assert "identity" not in [c["key"] for c in doc["categories"]]


# --- CSV zip -------------------------------------------------------------------------------


def test_zip_holds_one_csv_per_collection_and_explanations() -> None:
    members = zip_members(build())
    assert list(members) == [
        "README.txt",
        "categories.csv",
        "tiny/customers.csv",
        "tiny/payments.csv",
    ]
    header, row = read_csv(members["tiny/customers.csv"])
    info = graph().nodes[("tiny", "customers")]
    assert header == [n for n in info.spec.fields if n != "password_hash"]
    assert dict(zip(header, row, strict=True))["email"] == "ada@example.com"
    categories = read_csv(members["categories.csv"])
    assert categories[0][:2] == ["category", "name"]
    assert [line[0] for line in categories[1:]] == [
        "identity",
        "contact",
        "credentials",
        "payment",
        "transaction",
        "purchaser",
    ]
    readme = members["README.txt"].decode()
    assert "Miniso USA" in readme
    assert "req-123" in readme
    assert "Where it comes from: Websites and Social Media" in readme
    assert "How long we keep it: 7 years after the transaction" in readme


def test_csv_quotes_and_guards_formulas() -> None:
    tricky = {
        "name": '=HYPERLINK("http://evil.example","click")',
        "note": 'said "hi", then\r\nleft',
        "email": "@SUM(A1)",
    }
    package = build(found(tricky))
    raw = zip_members(package)["tiny/customers.csv"]
    header, row = read_csv(raw)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == "'" + tricky["name"]
    assert cells["email"] == "'@SUM(A1)"
    assert cells["note"] == tricky["note"]
    assert b'"said ""hi"", then\r\nleft"' in raw
    assert raw.endswith(b"\r\n")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+1 555 0100", "'+1 555 0100"),
        ("-x", "'-x"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'quoted", "''quoted"),
        ("plain", "plain"),
        (-5, "-5"),
        (Decimal("-1.50"), "-1.50"),
        (None, ""),
        (True, "true"),
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_zip_is_deterministic() -> None:
    first, second = build(), build()
    assert first.csv_zip == second.csv_zip
    assert first.json == second.json
    assert first.html == second.html
    with zipfile.ZipFile(io.BytesIO(first.csv_zip)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- HTML ----------------------------------------------------------------------------------


def test_html_escapes_values() -> None:
    evil = "<script>alert('x')</script>"
    html = build(found({"name": evil, "note": '"><img src=x onerror=alert(1)>'})).html.decode()
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert evil in parse(html).text()


def test_html_is_self_contained_and_accessible() -> None:
    html = build().html.decode()
    tree = parse(html)
    assert tree.find("html").attrs["lang"] == "en"
    assert not tree.find_all("script")
    assert not tree.find_all("link")
    assert not re.search(r"\bsrc=", html)
    assert "default-src 'none'" in html
    levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", html)]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    for table in tree.find_all("table"):
        assert table.find("caption").text()
        assert all(th.attrs.get("scope") in ("col", "row") for th in table.find_all("th"))


def test_html_groups_by_category_then_tables_then_disclosures() -> None:
    html = build().html.decode()
    text = parse(html).text()
    assert text.index("Your information by category") < text.index("The records we found")
    assert text.index("The records we found") < text.index("Where it comes from, why we use it")
    assert text.index("Where it comes from, why we use it") < text.index(
        "Information we hold but may not disclose"
    )
    assert "Contact information" in text
    assert "Billing address, delivery address, email address" in text
    assert "Payment provider (service provider acting on our behalf)" in text
    assert "ada@example.com" in text
    assert "tiny.payments: 1 record" in text


def test_portability_package_says_so() -> None:
    package = build(request_type="portability")
    assert document(package)["request"]["type"] == "portability"
    assert "formats that other services can read" in package.html.decode()


# --- nothing found -------------------------------------------------------------------------


@pytest.mark.parametrize("items", [[], "empty rows"])
def test_nothing_found_gives_valid_packages_saying_so(items: object) -> None:
    if items == "empty rows":
        items = [FoundCollection(node, []) for node in graph().nodes.values()]
    assert isinstance(items, list)
    package = build(items)
    doc = document(package)
    assert doc["nothing_found"] is True
    assert doc["datasets"] == {}
    assert doc["categories"] == []
    assert doc["withheld"] == []
    members = zip_members(package)
    assert list(members) == ["README.txt", "categories.csv"]
    assert "found no personal information" in members["README.txt"].decode()
    assert len(read_csv(members["categories.csv"])) == 1
    assert "found no personal information" in parse(package.html.decode()).text()
    assert package.counts.as_dict() == {
        "collections": 0,
        "rows": 0,
        "categories": 0,
        "withheld_fields": 0,
    }
    assert package.omitted == ()


def test_counts() -> None:
    package = build(found(payments=3))
    assert package.counts.as_dict() == {
        "collections": 2,
        "rows": 4,
        "categories": 6,
        "withheld_fields": 2,
    }


def test_rows_of_a_collection_found_twice_are_merged() -> None:
    items = found()
    doc = document(build([*items, items[1]]))
    assert len(doc["datasets"]["tiny"]["payments"]) == 2


# --- arbitrary values ----------------------------------------------------------------------

values = st.one_of(
    st.text(),
    st.integers(),
    st.none(),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(email=st.text(), name=st.text(), note=values)
def test_arbitrary_values_round_trip_through_json_and_csv(email: str, name: str, note: Any) -> None:
    package = build(found({"email": email, "name": name, "note": note}))
    [row] = document(package)["datasets"]["tiny"]["customers"]
    assert row["email"] == email
    assert row["name"] == name
    expected_note = note.isoformat() if isinstance(note, date) else note
    if isinstance(note, Decimal):
        assert Decimal(row["note"]) == note
    else:
        assert row["note"] == expected_note
    header, cells = read_csv(zip_members(package)["tiny/customers.csv"])
    by_name = dict(zip(header, cells, strict=True))
    assert unguard(by_name["email"]) == email
    assert unguard(by_name["name"]) == name
    assert package.html.decode()
