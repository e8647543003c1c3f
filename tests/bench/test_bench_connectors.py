"""The connector benchmark at a tiny size: both sides must do the same work (never timings)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import bench_connectors as bench
from privacyops.demo import shop
from tests.vault.support import scratch_database

CUSTOMERS = 50


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bench.Shop]:
    """One small shop for the module; every erasure puts its rows back."""
    with scratch_database(tmp_path_factory.mktemp("bench"), "benchshop") as url:
        shop.generate(url, customers=CUSTOMERS)
        with bench.open_shop(url, CUSTOMERS) as opened:
            yield opened


def subject(demo: bench.Shop, email: str) -> bench.Subject:
    return next(s for s in demo.subjects if s.email == email)


def counts(rows: bench.Rows) -> dict[str, int]:
    return {table: len(found) for table, found in rows.items() if found}


def test_engine_and_hand_written_sql_find_the_same_rows(demo: bench.Shop) -> None:
    assert len(demo.subjects) == len(shop.KNOWN_CUSTOMERS) + bench.GENERATED_SUBJECTS
    for each in demo.subjects:
        assert bench.different_tables(bench.engine_rows(each.states), each.found) == []
    # Not two empty answers: Ann's rows as the README describes them, Carla's by email only.
    ann = subject(demo, "ann.demo@example.com")
    assert counts(bench.engine_rows(ann.states)) == {
        "customers": 1,
        "addresses": 2,
        "orders": 2,
        "order_items": 3,
        "payments": 2,
        "loyalty_members": 1,
        "store_visits": 2,
        "marketing_subscribers": 1,
        "support_tickets": 1,
        "web_sessions": 2,
    }
    carla = subject(demo, "carla.demo@example.com")
    assert counts(carla.found) == {"marketing_subscribers": 1, "support_tickets": 1}


def test_engine_and_hand_written_sql_erase_the_same_way(demo: bench.Shop) -> None:
    for each in demo.subjects:
        bench.check_erasure(demo, each)  # raises when the rows left behind differ
    ann = subject(demo, "ann.demo@example.com")
    connector = bench.SqlConnector(demo.url)
    try:
        with demo.admin.connect() as conn:
            bench.engine_erase(demo, connector, ann)
            after = bench.snapshot(conn, ann.original)
    finally:
        connector.close()
        bench.restore(demo, ann)
    kept = {"customers": 1, "orders": 2, "order_items": 3, "payments": 2, "support_tickets": 1}
    assert counts(after) == kept  # masked; addresses, loyalty, visits... deleted
    assert after["customers"][0]["email"] != "ann.demo@example.com"
    assert after["orders"] == ann.original["orders"]  # kept whole for tax law
    with demo.admin.connect() as conn:
        assert bench.snapshot(conn, ann.original) == ann.original


def test_a_baseline_that_does_less_stops_the_bench(
    demo: bench.Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = subject(demo, "ann.demo@example.com")
    updates = {k: v for k, v in bench.HAND_UPDATES.items() if k != "customers"}
    monkeypatch.setattr(bench, "HAND_UPDATES", updates)
    with pytest.raises(bench.BenchError, match=r"erasure for ann\.demo@example\.com.*customers"):
        bench.check_erasure(demo, ann)
    with demo.admin.connect() as conn:
        assert bench.snapshot(conn, ann.original) == ann.original  # put back all the same

    queries = dict(bench.HAND_ACCESS)
    del queries["store_visits"]
    monkeypatch.setattr(bench, "HAND_ACCESS", queries)
    with pytest.raises(bench.BenchError, match="store_visits"):
        bench._subject(demo, "ann.demo@example.com")


def test_measure_gives_a_ratio_per_operation_and_mode(demo: bench.Shop) -> None:
    two = dataclasses.replace(demo, subjects=demo.subjects[:2])
    timings = bench.measure({10_000: two}, rounds=1)[10_000]
    assert set(timings) == {"access, cold", "access, warm", "erasure, cold", "erasure, warm"}
    assert all(t.engine > 0 and t.hand > 0 for t in timings.values())
    lines = [r.line() for r in bench.against_baseline("sqlite", 10_000, timings)]
    assert all(line.startswith("sqlite 10k: ") and "target <= 3x" in line for line in lines)
    scaled = bench.scaling("sqlite", 10_000, 1_000_000, timings, timings)
    assert [r.ratio for r in scaled] == [1.0] * 8
    assert "sqlite 1M/10k: access, cold (engine)" in scaled[0].line()
    assert "target < 1.5x: met" in scaled[0].line()
    with demo.admin.connect() as conn:  # the erasures were put back
        for each in demo.subjects[:2]:
            assert bench.snapshot(conn, each.original) == each.original


def test_works_take_turns_subject_by_subject_and_always_put_back() -> None:
    calls: list[str] = []
    subjects = [bench.Subject(f"s{n}", {}, {}) for n in range(2)]

    def doing(what: str) -> bench.Side:
        return lambda s: calls.append(f"{what} {s.email}")

    works = {
        (10, "engine"): bench.Work(subjects, doing("engine"), doing("put back")),
        (10, "hand"): bench.Work(subjects, doing("hand")),
    }
    seconds = bench.time_works(works, rounds=2)
    assert set(seconds) == set(works)
    first = ["engine s0", "put back s0", "hand s0", "engine s1", "put back s1", "hand s1"]
    second = ["hand s0", "engine s0", "put back s0", "hand s1", "engine s1", "put back s1"]
    assert calls == first + second

    def failing(subject: bench.Subject) -> None:
        raise RuntimeError("datastore down")

    calls.clear()
    with pytest.raises(RuntimeError):
        bench.time_works({(10, "engine"): bench.Work(subjects, failing, doing("put back"))}, 1)
    assert calls == ["put back s0"]


def test_options_come_from_the_environment() -> None:
    assert bench.options_from({}).sizes == (10_000, 1_000_000)
    chosen = bench.options_from(
        {"BENCH_CUSTOMERS": "1_000, 50", "BENCH_BACKENDS": "SQLite", "BENCH_ROUNDS": "3"}
    )
    assert (chosen.sizes, chosen.backends, chosen.rounds) == ((1000, 50), ("sqlite",), 3)
    for env, named in (
        ({"BENCH_CUSTOMERS": "ten"}, "BENCH_CUSTOMERS"),
        ({"BENCH_CUSTOMERS": "1"}, "BENCH_CUSTOMERS"),
        ({"BENCH_BACKENDS": "oracle"}, "BENCH_BACKENDS: unknown backend oracle"),
        ({"BENCH_ROUNDS": "0"}, "BENCH_ROUNDS"),
    ):
        with pytest.raises(bench.BenchError, match=named):
            bench.options_from(env)


def test_run_generates_each_shop_once_and_prints_every_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "BENCH_CUSTOMERS": "20,30",
        "BENCH_BACKENDS": "sqlite",
        "BENCH_ROUNDS": "1",
        "BENCH_CACHE_DIR": str(tmp_path),
    }
    generated: list[int] = []
    generate = bench._generate

    def counting(url: str, backend: str, customers: int, options: bench.Options) -> None:
        generated.append(customers)
        generate(url, backend, customers, options)

    monkeypatch.setattr(bench, "_generate", counting)
    monkeypatch.setattr(bench, "GENERATED_SUBJECTS", 1)
    # The timing itself is covered above; here, what is run and printed, in which order.
    timings = {what: bench.Timing(0.002, 0.001) for what in bench.OPERATIONS}
    monkeypatch.setattr(bench, "measure", lambda shops, rounds: dict.fromkeys(shops, timings))
    names = [result.name for result in bench.run(env)]
    assert generated == [20, 30]
    assert names[:4] == [f"sqlite 20: {what}" for what in bench.OPERATIONS]
    assert names[8:] == [
        f"sqlite 30/20: {what} ({side})" for what in bench.OPERATIONS for side in ("engine", "hand")
    ]
    options = bench.options_from(env)
    assert bench.shop_url("sqlite", 20, options).endswith("shop-20.db")
    assert generated == [20, 30]  # reused
