"""The demo shop generator: deterministic, realistic proportions, consistent references."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from privacyops.db import make_engine
from privacyops.demo import shop
from privacyops.demo.shop import ShopNotEmpty, generate
from privacyops.errors import PrivacyOpsError
from tests.vault.support import scratch_database

BIG = 3000


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in conn.execute(select(table).order_by(table.c.id))]
                for table in shop.TABLES
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """One shop of 3,000 customers for the read-only checks, with the size of each write."""
    writes: list[int] = []
    write = shop._write

    def spy(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
        writes.append(len(batch))
        write(conn, table, batch)

    with (
        scratch_database(tmp_path_factory.mktemp("shop"), "bigshop") as url,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(shop, "_write", spy)
        counts = generate(url, customers=BIG, seed=7, batch_customers=1000)
        counts["_writes"] = len(writes)
        yield url, counts


@pytest.fixture
def shop_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "shop") as url:
        yield url


def test_same_seed_same_rows_whatever_the_batch_size(tmp_path: Path) -> None:
    with (
        scratch_database(tmp_path, "a") as a,
        scratch_database(tmp_path, "b") as b,
        scratch_database(tmp_path, "c") as c,
    ):
        generate(a, customers=250, seed=3, batch_customers=1000)
        generate(b, customers=250, seed=3, batch_customers=40)
        generate(c, customers=250, seed=4)
        first, second, other = dump(a), dump(b), dump(c)
    assert first == second
    assert first["customers"][:2] == other["customers"][:2]  # the known customers are fixed
    assert first["customers"][2:] != other["customers"][2:]
    assert first["orders"] != other["orders"]


def test_counts_and_ratios_are_realistic(big_shop: tuple[str, dict[str, int]]) -> None:
    url, counts = big_shop
    assert len(dump(url)["customers"]) == BIG == counts["customers"]
    per_customer = {name: counts[name] / BIG for name in counts}
    assert 2.2 < per_customer["orders"] < 2.8  # 0-5 orders
    assert 2.2 < counts["order_items"] / counts["orders"] < 2.8  # 1-4 items
    assert counts["payments"] == counts["orders"]
    assert 0.55 < per_customer["loyalty_members"] < 0.65
    assert 2.6 < counts["store_visits"] / counts["loyalty_members"] < 3.4  # 0-6 visits
    assert 0.45 < per_customer["marketing_subscribers"] < 0.55
    assert 0.11 < per_customer["support_tickets"] < 0.19
    assert 1.9 < per_customer["web_sessions"] < 2.1  # 1-3 sessions
    assert 1.3 < per_customer["addresses"] < 1.7


def test_rows_are_written_in_batches(big_shop: tuple[str, dict[str, int]]) -> None:
    """executemany per table and batch, not one INSERT per row: what makes 1,000,000 feasible."""
    _url, counts = big_shop
    rows = sum(count for name, count in counts.items() if not name.startswith("_"))
    assert rows > 40_000
    assert counts["_writes"] == 3 * len(shop.TABLES)  # 3 batches of 1,000 customers


def test_every_reference_resolves(big_shop: tuple[str, dict[str, int]]) -> None:
    url, _counts = big_shop
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for table in shop.TABLES:
                for fk in table.foreign_keys:
                    parent = fk.column
                    orphans = conn.execute(
                        select(func.count())
                        .select_from(table)
                        .where(fk.parent.is_not(None))
                        .where(~select(parent).where(parent == fk.parent).exists())
                    ).scalar_one()
                    assert orphans == 0, f"{table.name}.{fk.parent.name}"
            emails = select(shop.customers.c.email).where(shop.customers.c.email.like("%.demo@%"))
            assert len(conn.execute(emails).all()) == 2
    finally:
        engine.dispose()


def test_every_identity_and_reference_column_is_indexed() -> None:
    indexed = {
        (table.name, index.columns[0].name) for table in shop.TABLES for index in table.indexes
    } | {
        (table.name, column.name)
        for table in shop.TABLES
        for column in table.columns
        if column.unique
    }
    for table, column in [
        ("customers", "email"),
        ("customers", "phone"),
        ("loyalty_members", "loyalty_id"),
        ("marketing_subscribers", "email"),
        ("marketing_subscribers", "sms_phone"),
        ("support_tickets", "email"),
        ("web_sessions", "cookie_id"),
    ]:
        assert (table, column) in indexed
    for table in shop.TABLES:
        for fk in table.foreign_keys:
            assert (table.name, fk.parent.name) in indexed


def test_known_customers_have_their_documented_rows(shop_url: str) -> None:
    generate(shop_url, customers=20, seed=99)
    rows = dump(shop_url)
    ann = next(r for r in rows["customers"] if r[1] == "ann.demo@example.com")
    ben = next(r for r in rows["customers"] if r[1] == "ben.demo@example.com")
    ann_orders = [r for r in rows["orders"] if r[1] == ann[0]]
    assert [(o[3], o[4]) for o in ann_orders] == [(5448, "delivered"), (3600, "shipped")]
    ann_order_ids = {o[0] for o in ann_orders}
    assert len([i for i in rows["order_items"] if i[1] in ann_order_ids]) == 3
    assert {p[2] for p in rows["payments"] if p[1] in ann_order_ids} == {
        "tok_demo_ann_0001",
        "tok_demo_ann_0002",
    }
    assert [(m[2], m[3]) for m in rows["loyalty_members"] if m[1] == ann[0]] == [
        ("LM0000000001", "gold")
    ]
    assert len([v for v in rows["store_visits"] if v[1] == "LM0000000001"]) == 2
    assert len([s for s in rows["web_sessions"] if s[1] == ann[0]]) == 2
    assert [(o[3], o[4]) for o in rows["orders"] if o[1] == ben[0]] == [(3999, "returned")]
    assert not [m for m in rows["loyalty_members"] if m[1] == ben[0]]
    # Carla has no account: only her email finds her.
    assert ("carla.demo@example.com", None) in {(s[1], s[2]) for s in rows["marketing_subscribers"]}
    assert ("carla.demo@example.com", None) in {(t[2], t[1]) for t in rows["support_tickets"]}
    assert not [c for c in rows["customers"] if c[1] == "carla.demo@example.com"]


def test_refuses_a_non_empty_shop_unless_reset(shop_url: str) -> None:
    generate(shop_url, customers=30, seed=1)
    before = dump(shop_url)
    with pytest.raises(ShopNotEmpty, match="--reset"):
        generate(shop_url, customers=30, seed=2)
    assert dump(shop_url) == before
    counts = generate(shop_url, customers=40, seed=2, reset=True)
    assert counts["customers"] == 40
    assert len(dump(shop_url)["customers"]) == 40


def test_bad_input_is_a_clear_error(shop_url: str) -> None:
    with pytest.raises(PrivacyOpsError, match="customers"):
        generate(shop_url, customers=1)
    with pytest.raises(PrivacyOpsError, match="url"):
        generate("not a url", customers=10)
