"""Dataset declarations: fideslang's model, the policy's categories and locations, references,
reachability, masking strategies, and the live database's tables and indexes."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, create_engine
from typer.testing import CliRunner

from privacyops.connectors.cli import datasets_app
from privacyops.connectors.datasets import DatasetCheck, check_dataset_files, check_dataset_text
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "miniso-usa" / "policy.yaml"
SHOP = ROOT / "src" / "privacyops" / "demo" / "datasets" / "shop.yaml"
SMALL = Path(__file__).parent / "fixtures" / "small_shop.yaml"
runner = CliRunner()


@cache
def policy() -> PolicyManifest:
    manifest = load_manifest_file(POLICY).manifest
    assert manifest is not None
    return manifest


def check(old: str, new: str) -> DatasetCheck:
    text = SMALL.read_text(encoding="utf-8")
    assert old in text
    return check_dataset_text(text.replace(old, new, 1), "small.yaml", policy())


def rendered(result: DatasetCheck) -> list[str]:
    return [p.render() for p in result.problems]


def test_the_small_fixture_is_valid() -> None:
    result = check_dataset_files([SMALL], policy())
    assert result.problems == []
    assert result.datasets[0].location == "united_states"
    assert result.datasets[0].masking == {
        ("customers", "email"): "hash",
        ("customers", "phone"): "null",
    }


def test_the_demo_shop_declaration_is_valid_against_the_example_policy() -> None:
    result = check_dataset_files([SHOP], policy())
    assert result.problems == []
    names = {c.name for c in result.datasets[0].dataset.collections}
    assert names == {
        "customers", "addresses", "orders", "order_items", "payments", "loyalty_members",
        "marketing_subscribers", "support_tickets", "store_visits", "web_sessions",
    }  # fmt: skip


def test_the_demo_declaration_matches_the_demo_schema() -> None:
    from privacyops.demo.shop import TABLES

    declared = check_dataset_files([SHOP], policy()).datasets[0].dataset
    columns = {c.name: {f.name for f in c.fields} for c in declared.collections}
    assert columns == {t.name: {col.name for col in t.columns} for t in TABLES}


def test_an_unknown_category_is_an_error_with_a_suggestion() -> None:
    result = check("[user.contact.email]", "[user.contact.emial]")
    assert rendered(result) == [
        "small.yaml:12: dataset[0].collections[0].fields[1].data_categories[0]: "
        "unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)"
    ]


def test_a_category_outside_the_policy_is_an_error_saying_the_policy_must_tell_the_truth() -> None:
    # A known fideslang key, but no policy category lists it or one of its ancestors.
    result = check("[user.behavior.purchase_history]", "[user.government_id.passport_number]")
    assert rendered(result) == [
        "small.yaml:25: dataset[0].collections[1].fields[2].data_categories[0]: "
        "'user.government_id.passport_number' is not a category the policy discloses: the policy "
        "must tell the truth; add it to a data category's fides_keys in the policy, or stop "
        "storing it"
    ]


def test_a_descendant_of_a_disclosed_category_is_fine_but_a_parent_is_not() -> None:
    assert check("[user.contact.email]", "[user.contact.address.city]").problems == []
    result = check("[user.contact.email]", "[user.contact]")
    assert "'user.contact' is not a category the policy discloses" in rendered(result)[0]


def test_an_unresolved_reference_names_what_is_missing() -> None:
    result = check("field: customers.id", "field: customers.uid")
    assert rendered(result) == [
        "small.yaml:23: dataset[0].collections[1].fields[1].fides_meta.references[0].field: "
        "reference to small.customers.uid does not resolve: collection 'customers' has no "
        "field 'uid'"
    ]
    result = check("dataset: small, field", "dataset: other, field")
    assert [p.message for p in result.problems] == [
        "reference to other.customers.id does not resolve: no dataset 'other' is declared"
    ]
    result = check("field: customers.id", "field: clients.id")
    assert [p.message for p in result.problems] == [
        "reference to small.clients.id does not resolve: dataset 'small' has no collection "
        "'clients'"
    ]


def test_a_collection_no_identity_reaches_is_an_error() -> None:
    # `to`: values flow from orders to customers, so customers' identities never reach orders.
    result = check("direction: from", "direction: to")
    assert rendered(result) == [
        "small.yaml:17: dataset[0].collections[1].name: collection 'orders' cannot be reached "
        "from an identity: give one of its fields an identity, or a reference to a reachable "
        "collection"
    ]
    # Without a direction a reference leads both ways.
    assert check(", direction: from", "").problems == []


def test_an_unknown_location_is_an_error_listing_the_policy_locations() -> None:
    result = check("location: united_states", "location: us")
    assert rendered(result) == [
        "small.yaml:5: dataset[0].fides_meta.location: unknown location 'us': use one of the "
        "policy's locations: united_states"
    ]
    result = check("    fides_meta:\n      location: united_states\n", "")
    assert rendered(result) == [
        "small.yaml:2: dataset[0].fides_meta.location: required field is missing: where this "
        "datastore is (one of the policy's locations: united_states)"
    ]


def test_a_bad_masking_strategy_is_an_error() -> None:
    result = check("masking_strategy: hash", "masking_strategy: shred")
    assert rendered(result) == [
        "small.yaml:13: dataset[0].collections[0].fields[1].fides_meta.masking_strategy: "
        "unknown masking strategy 'shred': use one of null, hash, random, redact, delete_row"
    ]


def test_an_unknown_identity_is_an_error() -> None:
    result = check("identity: phone", "identity: ssn")
    assert rendered(result) == [
        "small.yaml:16: dataset[0].collections[0].fields[2].fides_meta.identity: unknown "
        "identity 'ssn': use one of email, phone, loyalty_id, device_id"
    ]


def test_malformed_yaml_is_one_problem_with_its_line() -> None:
    result = check("      - name: orders\n", "      - name: [orders\n")
    assert len(result.problems) == 1
    assert result.problems[0].field == "(yaml)"
    assert result.problems[0].message.startswith("malformed YAML")
    assert result.datasets == []


def test_fideslang_model_errors_are_reported_at_their_field() -> None:
    result = check("direction: from", "direction: sideways")
    assert rendered(result) == [
        "small.yaml:23: dataset[0].collections[1].fields[1].fides_meta.references[0].direction: "
        "Input should be 'from' or 'to'"
    ]
    result = check("  - fides_key: small\n", "  - description: no key\n")
    assert rendered(result) == ["small.yaml:2: dataset[0].fides_key: required field is missing"]


def test_every_problem_is_reported_at_once() -> None:
    text = SMALL.read_text(encoding="utf-8")
    for old, new in [
        ("location: united_states", "location: mars"),
        ("masking_strategy: hash", "masking_strategy: shred"),
        ("field: customers.id", "field: customers.uid"),
    ]:
        text = text.replace(old, new)
    result = check_dataset_text(text, "small.yaml", policy())
    assert [p.line for p in result.problems] == [5, 13, 23]


def test_a_name_declared_twice_is_an_error() -> None:
    result = check("          - name: phone\n", "          - name: email\n")
    assert rendered(result) == [
        "small.yaml:9: dataset[0].collections[0].fields: Duplicate entries found: [email]"
    ]


def test_a_file_that_is_not_a_dataset_list_is_an_error(tmp_path: Path) -> None:
    result = check_dataset_text("collections: []\n", "x.yaml", policy())
    assert rendered(result) == [
        "x.yaml:1: (document): a dataset file is a YAML mapping with a `dataset:` list"
    ]
    missing = check_dataset_files([tmp_path / "nope.yaml"], policy())
    assert [p.message for p in missing.problems] == ["file not found"]


# --- the command --------------------------------------------------------------------------


def test_the_command_accepts_the_demo_declaration() -> None:
    result = runner.invoke(datasets_app, ["check", str(SHOP), "--policy", str(POLICY)])
    assert result.exit_code == 0, result.output
    assert "1 dataset(s): valid (0 error(s), 0 warning(s))" in result.output


def test_the_command_prints_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text(encoding="utf-8").replace("united_states", "us"))
    result = runner.invoke(datasets_app, ["check", str(bad), "--policy", str(POLICY)])
    assert result.exit_code == 1
    assert f"{bad}:5: dataset[0].fides_meta.location: unknown location 'us'" in result.output
    assert "1 error(s), 0 warning(s)" in result.output


def _small_database(path: Path, *, phone_indexed: bool, drop_total: bool = False) -> str:
    metadata = MetaData()
    Table(
        "customers",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", String(255), unique=True),
        Column("phone", String(32)),
        *([Index("ix_customers_phone", "phone")] if phone_indexed else []),
    )
    Table(
        "orders",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, index=True),
        *([] if drop_total else [Column("total_cents", Integer)]),
    )
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url


def test_url_warns_about_an_identity_column_without_an_index(tmp_path: Path) -> None:
    url = _small_database(tmp_path / "shop.db", phone_indexed=False)
    args = ["check", str(SMALL), "--policy", str(POLICY), "--url", url]
    result = runner.invoke(datasets_app, args)
    assert result.exit_code == 0, result.output
    # email has a unique constraint (an index); phone has none.
    assert (
        f"{SMALL}:14: dataset[0].collections[0].fields[2].name: column customers.phone is an "
        "identity but has no index: finding a subject's rows will scan the whole table [warning]"
    ) in result.output
    assert "customers.email" not in result.output
    assert "0 error(s), 1 warning(s)" in result.output

    indexed = _small_database(tmp_path / "indexed.db", phone_indexed=True)
    clean = runner.invoke(datasets_app, [*args[:-1], indexed])
    assert "0 error(s), 0 warning(s)" in clean.output


def test_url_reports_declared_tables_and_columns_that_do_not_exist(tmp_path: Path) -> None:
    url = _small_database(tmp_path / "shop.db", phone_indexed=True, drop_total=True)
    text = SMALL.read_text(encoding="utf-8") + (
        "      - name: tickets\n"
        "        fields:\n"
        "          - name: email\n"
        "            data_categories: [user.contact.email]\n"
        "            fides_meta: {identity: email}\n"
    )
    declared = tmp_path / "declared.yaml"
    declared.write_text(text)
    args = ["check", str(declared), "--policy", str(POLICY), "--url", url]
    result = runner.invoke(datasets_app, args)
    assert result.exit_code == 1
    assert "column orders.total_cents does not exist in the database [error]" in result.output
    assert "table 'tickets' does not exist in the database [error]" in result.output


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://x", "sqlite:////nonexistent/x.db"])
def test_a_bad_url_is_one_line(url: str) -> None:
    from privacyops.errors import PrivacyOpsError

    result = runner.invoke(
        datasets_app, ["check", str(SMALL), "--policy", str(POLICY), "--url", url]
    )
    assert isinstance(result.exception, PrivacyOpsError)
    assert "--url" in result.exception.message
