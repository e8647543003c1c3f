"""Connector benchmarks: one subject's access and erasure on the demo shop, the engine against
hand-written SQL fetching and changing the same rows, measured in the same run.

Per backend (SQLite, PostgreSQL) and shop size (10,000 and 1,000,000 customers):

- access: `traverse` with the real `SqlConnector` in one batch of the datastore, as
  `dsr.fulfilment._access` runs it, from the subject's email, against ten hand-written SELECTs
  on one connection (one per table, joins and subqueries from the email);
- erasure: what `dsr.fulfilment._erasure` does with the rows the access found
  (`Graph.erasure_order`, `plan_erasure`, then `SqlConnector.delete` and `.mask`, all in one
  batch: one transaction), against hand-written DELETE and UPDATE statements making the same
  changes in one transaction. The baseline knows which column gets which strategy; both sides
  compute the masked values with the same functions of `connectors.masking`, so what is
  compared is everything else. The platform's own bookkeeping (task rows, encrypted state) is
  not the connectors' and is left out.

Each in two modes:

- cold: a new connector (for the baseline, a new SQLAlchemy engine) per request, as a
  fulfilment job pays it: connecting and, for the engine, reflecting the tables it touches;
- warm: one connector (one engine) kept across requests: the statements alone.

Targets: the engine within 3x of the baseline, and less than 1.5x slower at the largest size
than at the smallest (the cost grows with the subject's rows, not the table size).

Fair to both sides:

- the subjects are the three known demo customers and five generated customers with ids up to
  10,000: the generator is deterministic, so they hold the same rows at every size and the
  1,000,000 / 10,000 ratio compares the same work on bigger tables;
- engine and baseline, on the small and the big shop, take turns subject by subject in the same
  rounds, the first to go changing every round; the median round is kept;
- an erasure commits for real; the subject's rows are then put back as they were (untimed), so
  every erasure, engine or baseline, changes the same rows;
- before any timing the bench checks that both sides agree: the same rows per table for access,
  the same rows afterwards for erasure. A difference stops the bench.

Shops are generated once into var/bench (SQLite `shop-<N>.db`; PostgreSQL database
`privacyops_bench_<N>`) and reused while they hold N customers.

Environment (all optional):
  BENCH_CUSTOMERS     shop sizes, default 10000,1000000 (the first is the scaling baseline)
  BENCH_BACKENDS      default sqlite,postgresql
  BENCH_ROUNDS        rounds per measurement, default 7
  BENCH_POSTGRES_URL  the server, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres
  BENCH_CACHE_DIR     where the SQLite shops go, default var/bench

Run alone with `python -m bench.bench_connectors`; `make bench` runs it with the others.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from bench.harness import Result
from privacyops.connectors.datasets import CollectionKey, check_dataset_text
from privacyops.connectors.graph import FieldInfo, Graph, build_graph
from privacyops.connectors.masking import (
    ErasureRules,
    hash_value,
    plan_erasure,
    random_value,
    redact_value,
)
from privacyops.connectors.port import Row, batched
from privacyops.connectors.sql import SqlConnector
from privacyops.connectors.traversal import CollectionState, traverse
from privacyops.db import make_engine
from privacyops.demo import shop
from privacyops.demo.connect import declarations
from privacyops.policy.loader import load_manifest_file

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "miniso-usa" / "policy.yaml"
DEFAULT_SIZES = (10_000, 1_000_000)
BACKENDS = ("sqlite", "postgresql")
DEFAULT_ROUNDS = 7
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACCESS_TARGET = 3.0  # engine / hand-written, at most
SCALING_TARGET = 1.5  # engine at the largest size / at the smallest, less than
GENERATED_SUBJECTS = 5
SAME_ROWS_UP_TO = 10_000  # generated subjects come from the ids every default size holds
MASKING_KEY = b"privacyops-bench-masking-key-32b"
DATASET = "shop"
OPERATIONS = ("access, cold", "access, warm", "erasure, cold", "erasure, warm")

Rows = dict[str, list[Row]]  # table -> rows
States = dict[CollectionKey, CollectionState]
Side = Callable[["Subject"], object]
WorkKey = tuple[int, str]  # (shop size, "engine" or "hand")


class BenchError(Exception):
    """The bench cannot run as asked, or the two sides disagree; the message says which."""


# -- the results ----------------------------------------------------------------------------------


@dataclass
class Checked(Result):
    """A ratio with its target: `limit` is the most it may be (`strict`: it must stay below)."""

    limit: float | None = None
    strict: bool = False

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return self.ratio < self.limit if self.strict else self.ratio <= self.limit

    def line(self) -> str:
        if self.limit is None:
            return f"{super().line()}  [for comparison]"
        sign = "<" if self.strict else "<="
        verdict = "met" if self.met else "MISSED"
        return f"{super().line()}  [target {sign} {self.limit:g}x: {verdict}]"


@dataclass(frozen=True)
class Timing:
    engine: float  # seconds per subject, median round
    hand: float


# -- settings from the environment ----------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    backends: tuple[str, ...] = BACKENDS
    rounds: int = DEFAULT_ROUNDS
    postgres: str = DEFAULT_POSTGRES
    cache: Path = ROOT / "var" / "bench"


def options_from(env: Mapping[str, str]) -> Options:
    """The bench's settings; a bad value stops it with the variable's name."""
    sizes = _numbers(env, "BENCH_CUSTOMERS", DEFAULT_SIZES, least=2)
    rounds = _numbers(env, "BENCH_ROUNDS", (DEFAULT_ROUNDS,), least=1)
    backends = tuple(
        name.strip().lower()
        for name in env.get("BENCH_BACKENDS", ",".join(BACKENDS)).split(",")
        if name.strip()
    )
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown or not backends:
        raise BenchError(
            f"BENCH_BACKENDS: unknown backend {', '.join(unknown) or '(none)'}; "
            f"use {', '.join(BACKENDS)}"
        )
    if len(rounds) != 1:
        raise BenchError("BENCH_ROUNDS: one whole number")
    return Options(
        sizes=tuple(dict.fromkeys(sizes)),
        backends=tuple(dict.fromkeys(backends)),
        rounds=rounds[0],
        postgres=env.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        cache=Path(env.get("BENCH_CACHE_DIR", str(ROOT / "var" / "bench"))),
    )


def _numbers(env: Mapping[str, str], name: str, default: tuple[int, ...], least: int) -> list[int]:
    raw = env.get(name)
    if raw is None:
        return list(default)
    try:
        values = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BenchError(f"{name}: whole numbers separated by commas, not {raw!r}") from None
    if not values or min(values) < least:
        raise BenchError(f"{name}: each value at least {least}, not {raw!r}")
    return values


# -- the shops, generated once ------------------------------------------------------------------


def shop_url(backend: str, customers: int, options: Options) -> str:
    """A shop of `customers` on `backend`, generated unless the cached one already holds them."""
    if backend == "sqlite":
        options.cache.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(options.cache / f'shop-{customers}.db').as_posix()}"
    else:
        url = _postgres_database(options.postgres, f"privacyops_bench_{customers}")
    if _customers_in(url) != customers:
        _generate(url, backend, customers, options)
    return url


def _postgres_database(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _customers_in(url: str) -> int | None:
    engine = create_engine(url)
    try:
        if "customers" not in sa_inspect(engine).get_table_names():
            return None
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(shop.customers)).scalar_one())
    finally:
        engine.dispose()


def _generate(url: str, backend: str, customers: int, options: Options) -> None:
    where = shop.safe_url(url)
    _say(f"generating {customers:,} customers into {where} (once; reused by later runs)")
    if backend == "sqlite":
        path = Path(url.split("///", 1)[1])
        for old in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
            old.unlink(missing_ok=True)
    start = time.perf_counter()
    shop.generate(url, customers=customers, seed=1, reset=True)
    if backend == "postgresql":
        # Autovacuum would analyze tables this size within a minute; doing it now makes the
        # plans of the very first run the same as those of later ones.
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
    _say(f"generated {customers:,} customers on {backend} in {time.perf_counter() - start:.0f} s")


# -- the subjects and their rows -----------------------------------------------------------------


@dataclass
class Subject:
    email: str
    found: Rows  # the baseline's access: the input of its erasure
    states: States  # the engine's access: the input of its erasure
    original: Rows = field(default_factory=dict)  # every column, to put the rows back


@dataclass
class Shop:
    url: str
    graph: Graph
    rules: ErasureRules
    admin: Engine  # the untimed work: picking subjects, snapshots, restores
    checker: SqlConnector  # the engine's side of the checks, before any timing
    subjects: list[Subject] = field(default_factory=list)


def load_graph() -> tuple[Graph, ErasureRules]:
    """The shop's declarations checked against the example policy, and the policy's rules."""
    manifest = load_manifest_file(POLICY).manifest
    if manifest is None:
        raise BenchError(f"{POLICY}: the example policy does not load")
    check = check_dataset_text(declarations(), "demo/datasets/shop.yaml", manifest)
    if check.problems:
        raise BenchError(f"the shop's declarations have problems: {check.problems[0]}")
    return build_graph(check.datasets), ErasureRules.from_manifest(manifest)


@contextmanager
def open_shop(url: str, customers: int, generated: int | None = None) -> Iterator[Shop]:
    """The shop with its subjects' rows read by both sides, checked to agree."""
    generated = GENERATED_SUBJECTS if generated is None else generated
    graph, rules = load_graph()
    admin = make_engine(url)
    bench = Shop(url, graph, rules, admin, SqlConnector(url))
    try:
        for email in subject_emails(admin, customers, generated):
            bench.subjects.append(_subject(bench, email))
        yield bench
    finally:
        bench.checker.close()
        admin.dispose()


def subject_emails(engine: Engine, customers: int, generated: int) -> list[str]:
    """The known demo customers, then `generated` customers spread over the ids up to 10,000."""
    span = min(customers, SAME_ROWS_UP_TO)
    known = len(shop.KNOWN_CUSTOMERS)
    ids = sorted({known + (span - known) * k // generated for k in range(1, generated + 1)})
    with engine.connect() as conn:
        emails = conn.execute(
            select(shop.customers.c.email).where(shop.customers.c.id.in_(ids)).order_by("id")
        ).scalars()
        return [k.email for k in shop.KNOWN_CUSTOMERS] + list(emails)


def _subject(bench: Shop, email: str) -> Subject:
    states = engine_access(bench.graph, bench.checker, email)
    with bench.admin.connect() as conn:
        found = hand_access(conn, email)
        subject = Subject(email, found, states, snapshot(conn, found))
    if not any(found.values()):
        raise BenchError(
            f"subject {email} has no rows: the cached shop was changed (an interrupted run?); "
            "delete it (SQLite file or privacyops_bench_<N> database) to generate it again"
        )
    differs = different_tables(engine_rows(states), found)
    if differs:
        raise BenchError(f"access for {email}: engine and hand-written SQL differ in {differs}")
    return subject


# -- access: the engine and the baseline ----------------------------------------------------------


def engine_access(graph: Graph, connector: SqlConnector, email: str) -> States:
    """What `dsr.fulfilment._access` does: the walk in one batch of the datastore."""
    with batched(connector, [node.spec for node in graph.nodes.values()]):
        result = traverse(graph, {"email": [email]}, {DATASET: connector})
    if not result.complete:
        problems = "; ".join(f.error for f in result.failures.values())
        raise BenchError(f"the traversal did not complete: {problems or 'collections waiting'}")
    return result.states


def engine_rows(states: States) -> Rows:
    return {key[1]: list(state.rows) for key, state in states.items()}


def _table(name: str) -> Any:
    return shop.metadata.tables[name]


def _select(table: str, sql: str) -> TextualSelect:
    # Typed columns, so that SQLite's dates come back as dates, as the engine's do.
    return text(sql).columns(**{column.name: column.type for column in _table(table).columns})


HAND_ACCESS: dict[str, TextualSelect] = {
    "customers": _select(
        "customers",
        "SELECT id, email, first_name, last_name, phone, date_of_birth, created_at, "
        "password_hash FROM customers WHERE email = :email",
    ),
    "addresses": _select(
        "addresses",
        "SELECT id, customer_id, kind, street, city, state, postal_code FROM addresses "
        "WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
    "orders": _select(
        "orders",
        "SELECT id, customer_id, placed_at, total_cents, status FROM orders "
        "WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
    "order_items": _select(
        "order_items",
        "SELECT i.id, i.order_id, i.sku, i.product_name, i.quantity, i.unit_price_cents "
        "FROM order_items i JOIN orders o ON o.id = i.order_id "
        "JOIN customers c ON c.id = o.customer_id WHERE c.email = :email",
    ),
    "payments": _select(
        "payments",
        "SELECT p.id, p.order_id, p.card_token, p.card_last4, p.card_brand, p.amount_cents "
        "FROM payments p JOIN orders o ON o.id = p.order_id "
        "JOIN customers c ON c.id = o.customer_id WHERE c.email = :email",
    ),
    "loyalty_members": _select(
        "loyalty_members",
        "SELECT id, customer_id, loyalty_id, tier, points, joined_at FROM loyalty_members "
        "WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
    # UNION rather than OR: PostgreSQL scans the whole table for `a = x OR b IN (subquery)`.
    "marketing_subscribers": _select(
        "marketing_subscribers",
        "SELECT id, email, customer_id, subscribed_at, sms_phone FROM marketing_subscribers "
        "WHERE email = :email UNION "
        "SELECT id, email, customer_id, subscribed_at, sms_phone FROM marketing_subscribers "
        "WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
    "support_tickets": _select(
        "support_tickets",
        "SELECT id, customer_id, email, subject, body, created_at, status FROM support_tickets "
        "WHERE email = :email UNION "
        "SELECT id, customer_id, email, subject, body, created_at, status FROM support_tickets "
        "WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
    "store_visits": _select(
        "store_visits",
        "SELECT v.id, v.loyalty_id, v.store_code, v.visited_at, v.cctv_clip_ref "
        "FROM store_visits v JOIN loyalty_members l ON l.loyalty_id = v.loyalty_id "
        "JOIN customers c ON c.id = l.customer_id WHERE c.email = :email",
    ),
    "web_sessions": _select(
        "web_sessions",
        "SELECT id, customer_id, cookie_id, ip_address, user_agent, started_at "
        "FROM web_sessions WHERE customer_id IN (SELECT id FROM customers WHERE email = :email)",
    ),
}


def hand_access(conn: Connection, email: str) -> Rows:
    return {
        table: [dict(row._mapping) for row in conn.execute(statement, {"email": email})]
        for table, statement in HAND_ACCESS.items()
    }


def different_tables(first: Rows, second: Rows) -> list[str]:
    """Tables whose rows differ (order aside)."""
    names = sorted(set(first) | set(second))
    return [name for name in names if _sorted(first.get(name, [])) != _sorted(second.get(name, []))]


def _sorted(rows: Sequence[Row]) -> list[tuple[tuple[str, Any], ...]]:
    return sorted((tuple(sorted(row.items())) for row in rows), key=repr)


# -- erasure: the engine and the baseline ---------------------------------------------------------


def engine_erase(bench: Shop, connector: SqlConnector, subject: Subject) -> None:
    """What `dsr.fulfilment._erasure` does: per collection, children first, all of them in one
    batch of the datastore (one transaction, as the baseline's)."""
    order = bench.graph.erasure_order()
    with batched(connector, [bench.graph.nodes[key].spec for key in order]):
        for key in order:
            node = bench.graph.nodes[key]
            rows = subject.states.get(key, CollectionState()).rows
            plan = plan_erasure(node, rows, bench.rules, MASKING_KEY)
            if plan.deletes:
                connector.delete(node.spec, plan.key_field, plan.deletes)
            if plan.updates:
                connector.mask(node.spec, plan.key_field, plan.updates)


def _ids_in(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("ids", expanding=True))


# Children before the rows they point at.
HAND_DELETES = {
    "store_visits": _ids_in("DELETE FROM store_visits WHERE id IN :ids"),
    "addresses": _ids_in("DELETE FROM addresses WHERE id IN :ids"),
    "loyalty_members": _ids_in("DELETE FROM loyalty_members WHERE id IN :ids"),
    "marketing_subscribers": _ids_in("DELETE FROM marketing_subscribers WHERE id IN :ids"),
    "web_sessions": _ids_in("DELETE FROM web_sessions WHERE id IN :ids"),
}
HAND_UPDATES = {
    "payments": text(
        "UPDATE payments SET card_token = :card_token, card_last4 = :card_last4 WHERE id = :id"
    ),
    "support_tickets": text(
        "UPDATE support_tickets SET email = :email, subject = :subject, body = :body WHERE id = :id"
    ),
    "customers": text(
        "UPDATE customers SET email = :email, first_name = :first_name, last_name = :last_name, "
        "phone = NULL, date_of_birth = NULL, password_hash = :password_hash WHERE id = :id"
    ),
}


def _plain(name: str, length: int | None = None) -> FieldInfo:
    return FieldInfo(name, length=length)


def _masked_rows(table: str, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The new values of each row, per column as the shop's declaration chooses."""
    key = MASKING_KEY
    if table == "payments":
        return [
            {
                "id": row["id"],
                "card_token": hash_value(row["card_token"], _plain("card_token", 64), key),
                "card_last4": redact_value(row["card_last4"], _plain("card_last4", 4)),
            }
            for row in rows
        ]
    if table == "support_tickets":
        return [
            {
                "id": row["id"],
                "email": hash_value(row["email"], _plain("email"), key),
                "subject": redact_value(row["subject"], _plain("subject")),
                "body": redact_value(row["body"], _plain("body")),
            }
            for row in rows
        ]
    where = f"{DATASET}.customers.password_hash"
    return [
        {
            "id": row["id"],
            "email": hash_value(row["email"], _plain("email"), key),
            "first_name": redact_value(row["first_name"], _plain("first_name")),
            "last_name": redact_value(row["last_name"], _plain("last_name")),
            "password_hash": random_value(
                row["password_hash"], _plain("password_hash"), key, where, row["id"]
            ),
        }
        for row in rows
    ]


def hand_erase(conn: Connection, found: Rows) -> None:
    """Deletes by id, then one UPDATE per table for the masked rows (orders and items are kept
    whole for tax law, so nothing is written to them)."""
    for table, statement in HAND_DELETES.items():
        if found[table]:
            conn.execute(statement, {"ids": [row["id"] for row in found[table]]})
    for table, statement in HAND_UPDATES.items():
        if found[table]:
            conn.execute(statement, _masked_rows(table, found[table]))


# -- putting the rows back (untimed) -------------------------------------------------------------


def snapshot(conn: Connection, found: Rows) -> Rows:
    """Every column of the subject's rows, as they are now."""
    rows: Rows = {}
    for table in shop.TABLES:
        ids = [row["id"] for row in found.get(table.name, [])]
        if not ids:
            rows[table.name] = []
            continue
        result = conn.execute(select(table).where(table.c.id.in_(ids)))
        rows[table.name] = [dict(row._mapping) for row in result]
    return rows


def restore(bench: Shop, subject: Subject) -> None:
    """The subject's rows as they were before an erasure: out, then back in, parents first."""
    with bench.admin.begin() as conn:
        for table in reversed(shop.TABLES):
            ids = [row["id"] for row in subject.original[table.name]]
            if ids:
                conn.execute(delete(table).where(table.c.id.in_(ids)))
        for table in shop.TABLES:
            if subject.original[table.name]:
                conn.execute(insert(table), subject.original[table.name])


def check_erasure(bench: Shop, subject: Subject) -> None:
    """Both sides leave the same rows behind, something did change, and the restore works."""
    after_engine = _erased_by(bench, subject, lambda: engine_erase(bench, bench.checker, subject))
    after_hand = _erased_by(bench, subject, lambda: _hand_erase_on(bench.admin, subject))
    differs = different_tables(after_engine, after_hand)
    if differs:
        raise BenchError(
            f"erasure for {subject.email}: engine and hand-written SQL differ in {differs}"
        )
    if not different_tables(after_engine, subject.original):
        raise BenchError(f"erasure for {subject.email}: nothing changed")


def _erased_by(bench: Shop, subject: Subject, erase: Callable[[], object]) -> Rows:
    try:
        erase()
        with bench.admin.connect() as conn:
            return snapshot(conn, subject.original)
    finally:
        restore(bench, subject)
        with bench.admin.connect() as conn:
            if different_tables(snapshot(conn, subject.original), subject.original):
                raise BenchError(f"the rows of {subject.email} could not be put back")


def _hand_erase_on(engine: Engine, subject: Subject) -> None:
    with engine.begin() as conn:
        hand_erase(conn, subject.found)


# -- timing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """One side of a measurement: what it does for a subject, and the untimed work after it."""

    subjects: Sequence[Subject]
    run: Side
    after: Side | None = None


def time_works(works: Mapping[WorkKey, Work], rounds: int) -> dict[WorkKey, float]:
    """Seconds per subject (median round) of each work.

    Interleaved subject by subject, with the order rotating every round, so that every work
    (engine and baseline, small and big shop) sees the same machine state: whoever goes first
    warms the caches for the others, and a load that comes and goes falls on all of them.
    """
    keys = list(works)
    kept: dict[WorkKey, list[float]] = {key: [] for key in keys}
    longest = max(len(work.subjects) for work in works.values())
    for number in range(rounds):
        turn = number % len(keys)
        order = keys[turn:] + keys[:turn]
        totals = dict.fromkeys(keys, 0.0)
        for index in range(longest):
            for key in order:
                work = works[key]
                if index < len(work.subjects):
                    totals[key] += _timed(work, work.subjects[index])
        for key in keys:
            kept[key].append(totals[key] / len(works[key].subjects))
    return {key: statistics.median(values) for key, values in kept.items()}


def _timed(work: Work, subject: Subject) -> float:
    start = time.perf_counter()
    try:
        work.run(subject)
        return time.perf_counter() - start
    finally:
        if work.after is not None:
            work.after(subject)


def _cold_engine(url: str, work: Callable[[SqlConnector], object]) -> None:
    connector = SqlConnector(url)
    try:
        work(connector)
    finally:
        connector.close()


def _cold_hand(url: str, work: Callable[[Engine], object]) -> None:
    engine = create_engine(url)
    try:
        work(engine)
    finally:
        engine.dispose()


def _hand_read(engine: Engine, email: str) -> Rows:
    with engine.connect() as conn:
        return hand_access(conn, email)


@dataclass(frozen=True)
class _Warm:
    """The connector and the engine the warm modes keep across requests."""

    connector: SqlConnector
    engine: Engine


def _works(operation: str, bench: Shop, warm: _Warm) -> tuple[Work, Work]:
    """The engine's and the baseline's side of one operation on one shop."""
    url, graph, subjects = bench.url, bench.graph, bench.subjects

    def put_back(subject: Subject) -> None:
        restore(bench, subject)

    sides: dict[str, tuple[Side, Side]] = {
        "access, cold": (
            lambda s: _cold_engine(url, lambda c: engine_access(graph, c, s.email)),
            lambda s: _cold_hand(url, lambda e: _hand_read(e, s.email)),
        ),
        "access, warm": (
            lambda s: engine_access(graph, warm.connector, s.email),
            lambda s: _hand_read(warm.engine, s.email),
        ),
        "erasure, cold": (
            lambda s: _cold_engine(url, lambda c: engine_erase(bench, c, s)),
            lambda s: _cold_hand(url, lambda e: _hand_erase_on(e, s)),
        ),
        "erasure, warm": (
            lambda s: engine_erase(bench, warm.connector, s),
            lambda s: _hand_erase_on(warm.engine, s),
        ),
    }
    engine_side, hand_side = sides[operation]
    after = put_back if operation.startswith("erasure") else None
    return Work(subjects, engine_side, after), Work(subjects, hand_side, after)


def measure(benches: Mapping[int, Shop], rounds: int) -> dict[int, dict[str, Timing]]:
    """Access and erasure, cold and warm, on every shop (by size) in the same rounds: seconds
    per subject for the engine and the baseline."""
    with ExitStack() as stack:
        warm = {size: _warm_up(bench, stack) for size, bench in benches.items()}
        timings: dict[int, dict[str, Timing]] = {size: {} for size in benches}
        for operation in OPERATIONS:
            works: dict[WorkKey, Work] = {}
            for size, bench in benches.items():
                engine_work, hand_work = _works(operation, bench, warm[size])
                works[(size, "engine")], works[(size, "hand")] = engine_work, hand_work
            seconds = time_works(works, rounds)
            for size in benches:
                timings[size][operation] = Timing(
                    seconds[(size, "engine")], seconds[(size, "hand")]
                )
        return timings


def _warm_up(bench: Shop, stack: ExitStack) -> _Warm:
    """The warm modes start with reflection done and a pooled connection."""
    connector = SqlConnector(bench.url)
    stack.callback(connector.close)
    engine = create_engine(bench.url)
    stack.callback(engine.dispose)
    engine_access(bench.graph, connector, bench.subjects[0].email)
    _hand_read(engine, bench.subjects[0].email)
    return _Warm(connector, engine)


# -- the whole bench ------------------------------------------------------------------------------


def size_name(customers: int) -> str:
    if customers >= 1_000_000 and customers % 1_000_000 == 0:
        return f"{customers // 1_000_000}M"
    if customers >= 1_000 and customers % 1_000 == 0:
        return f"{customers // 1_000}k"
    return f"{customers:,}"


def against_baseline(backend: str, customers: int, timings: dict[str, Timing]) -> list[Checked]:
    return [
        Checked(
            f"{backend} {size_name(customers)}: {what}",
            "hand-written SQL",
            timing.engine,
            timing.hand,
            limit=ACCESS_TARGET,
        )
        for what, timing in timings.items()
    ]


def scaling(
    backend: str, small: int, big: int, at_small: dict[str, Timing], at_big: dict[str, Timing]
) -> list[Checked]:
    """The engine at the big size against itself at the small one (the target), and the same
    ratio for the baseline, to tell the engine's growth from the database's."""
    results = []
    for what, timing in at_big.items():
        label = f"{backend} {size_name(big)}/{size_name(small)}: {what}"
        results.append(
            Checked(
                f"{label} (engine)",
                f"engine at {size_name(small)}",
                timing.engine,
                at_small[what].engine,
                limit=SCALING_TARGET,
                strict=True,
            )
        )
        results.append(
            Checked(
                f"{label} (hand)",
                f"hand-written at {size_name(small)}",
                timing.hand,
                at_small[what].hand,
            )
        )
    return results


def run_backend(backend: str, options: Options) -> Iterator[Checked]:
    """Every size of one backend, checked, then timed together (see `time_works`)."""
    with ExitStack() as stack:
        benches: dict[int, Shop] = {}
        for customers in options.sizes:
            url = shop_url(backend, customers, options)
            benches[customers] = bench = stack.enter_context(open_shop(url, customers))
            for subject in bench.subjects:
                check_erasure(bench, subject)
        sizes = ", ".join(map(size_name, options.sizes))
        _say(f"{backend} {sizes}: both sides agree; timing {options.rounds} rounds")
        by_size = measure(benches, options.rounds)
    for customers in options.sizes:
        yield from against_baseline(backend, customers, by_size[customers])
    small = options.sizes[0]
    for big in options.sizes[1:]:
        yield from scaling(backend, small, big, by_size[small], by_size[big])


def run(env: Mapping[str, str] | None = None) -> Iterator[Result]:
    """Every backend and size; a PostgreSQL server that cannot be reached is skipped, loudly."""
    options = options_from(os.environ if env is None else env)
    for backend in options.backends:
        try:
            yield from run_backend(backend, options)
        except OperationalError as error:
            if backend != "postgresql":
                raise
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "no connection"
            _say(
                f"postgresql: SKIPPED, cannot use {shop.safe_url(options.postgres)} ({reason}); "
                "set BENCH_POSTGRES_URL, or BENCH_BACKENDS=sqlite"
            )


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main() -> None:
    print(f"{'benchmark':<44} {'ratio':>8}  baseline")
    try:
        for result in run():
            print(result.line(), flush=True)
    except BenchError as error:
        raise SystemExit(f"bench: {error}") from None


if __name__ == "__main__":
    main()
