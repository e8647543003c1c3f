"""The demo retail shop: its own database (not the platform's), schema and seeded generator.

The shop is what a rights request has to reach: `privacyops demo create` fills it, the dataset
declarations in `datasets/shop.yaml` describe it, and the connectors query it. It lives in its
own `MetaData` so that it never mixes with the platform's tables or migrations; any SQLAlchemy URL
works (default: a SQLite file `demo-shop.db` under data_dir).

Tables and columns (ids are integers the generator assigns; times are naive UTC):

- customers: id PK, email (unique), first_name, last_name, phone (ix), date_of_birth (date),
  created_at, password_hash (never disclosed)
- addresses: id PK, customer_id -> customers.id (ix), kind ('billing' | 'shipping'), street,
  city, state (US code), postal_code
- orders: id PK, customer_id -> customers.id (ix), placed_at, total_cents, status
  ('placed' | 'shipped' | 'delivered' | 'returned' | 'cancelled')
- order_items: id PK, order_id -> orders.id (ix), sku, product_name, quantity, unit_price_cents
- payments: id PK, order_id -> orders.id (ix), card_token (processor token, not a card number),
  card_last4, card_brand, amount_cents
- loyalty_members: id PK, customer_id -> customers.id (ix), loyalty_id (unique), tier
  ('bronze' | 'silver' | 'gold'), points, joined_at
- marketing_subscribers: id PK, email (unique), customer_id -> customers.id nullable (ix),
  subscribed_at, sms_phone nullable (ix)
- support_tickets: id PK, customer_id -> customers.id nullable (ix), email (ix), subject, body,
  created_at, status ('open' | 'pending' | 'closed')
- store_visits: id PK, loyalty_id -> loyalty_members.loyalty_id (ix), store_code, visited_at,
  cctv_clip_ref
- web_sessions: id PK, customer_id -> customers.id nullable (ix), cookie_id (ix), ip_address,
  user_agent, started_at

Identity columns: customers.email, customers.phone, loyalty_members.loyalty_id,
marketing_subscribers.email / sms_phone, support_tickets.email, web_sessions.cookie_id.
Every identity and reference column has an index (a unique constraint counts as one).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from privacyops.db import NAMING_CONVENTION, make_engine
from privacyops.errors import PrivacyOpsError

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Column[int]:
    # Ids come from the generator (deterministic, and children need them without a round trip).
    return Column("id", Integer, primary_key=True, autoincrement=False)


customers = Table(
    "customers",
    metadata,
    _id(),
    Column("email", String(255), nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(32), index=True),
    Column("date_of_birth", Date),
    Column("created_at", DateTime, nullable=False),
    Column("password_hash", String(255), nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    _id(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("street", String(255), nullable=False),
    Column("city", String(100), nullable=False),
    Column("state", String(2), nullable=False),
    Column("postal_code", String(10), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    _id(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("placed_at", DateTime, nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("status", String(16), nullable=False),
)

order_items = Table(
    "order_items",
    metadata,
    _id(),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("sku", String(32), nullable=False),
    Column("product_name", String(255), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    _id(),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("card_token", String(64), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("card_brand", String(16), nullable=False),
    Column("amount_cents", Integer, nullable=False),
)

loyalty_members = Table(
    "loyalty_members",
    metadata,
    _id(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("loyalty_id", String(16), nullable=False, unique=True),
    Column("tier", String(16), nullable=False),
    Column("points", Integer, nullable=False),
    Column("joined_at", DateTime, nullable=False),
)

marketing_subscribers = Table(
    "marketing_subscribers",
    metadata,
    _id(),
    Column("email", String(255), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True, index=True),
    Column("subscribed_at", DateTime, nullable=False),
    Column("sms_phone", String(32), nullable=True, index=True),
)

support_tickets = Table(
    "support_tickets",
    metadata,
    _id(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True, index=True),
    Column("email", String(255), nullable=False, index=True),
    Column("subject", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("status", String(16), nullable=False),
)

store_visits = Table(
    "store_visits",
    metadata,
    _id(),
    Column(
        "loyalty_id",
        String(16),
        ForeignKey("loyalty_members.loyalty_id"),
        nullable=False,
        index=True,
    ),
    Column("store_code", String(16), nullable=False),
    Column("visited_at", DateTime, nullable=False),
    Column("cctv_clip_ref", String(255), nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    _id(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True, index=True),
    Column("cookie_id", String(64), nullable=False, index=True),
    Column("ip_address", String(45), nullable=False),
    Column("user_agent", String(255), nullable=False),
    Column("started_at", DateTime, nullable=False),
)

# Parents before children: the order rows are inserted in, and the reverse of deletion.
TABLES: tuple[Table, ...] = (
    customers,
    addresses,
    orders,
    order_items,
    payments,
    loyalty_members,
    marketing_subscribers,
    support_tickets,
    store_visits,
    web_sessions,
)


# --- generator ------------------------------------------------------------------------------
#
# Deterministic: one `random.Random(seed)` consumed customer after customer, with fixed dates
# from BASE (never the clock), so that the same seed gives the same rows whatever the batch size.
# Rows are generated and inserted one batch of customers at a time, so memory stays flat and a
# million customers is a matter of minutes, not of RAM.

BASE = datetime(2026, 1, 1)
DEFAULT_CUSTOMERS = 2000
BATCH_CUSTOMERS = 1000

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Theo", "Evelyn", "Henry", "Luna", "Diego",
    "Priya", "Wei", "Fatima", "Kenji", "Aaliyah", "Omar", "Chloe", "Santiago", "Nora", "Malik",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Nguyen", "Patel", "Kim", "Chen", "Okafor", "Cohen",
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lake Rd", "Hill St", "Park Ave", "Sunset Blvd", "River Rd", "Church St", "Mill Rd",
)  # fmt: skip
# (city, state, first three digits of the ZIP code)
CITIES = (
    ("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"), ("San Diego", "CA", "921"),
    ("Richmond", "VA", "232"), ("Denver", "CO", "802"), ("Hartford", "CT", "061"),
    ("Salt Lake City", "UT", "841"), ("Austin", "TX", "787"), ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"), ("New York", "NY", "100"), ("Chicago", "IL", "606"),
    ("Miami", "FL", "331"), ("Newark", "NJ", "071"), ("Nashville", "TN", "372"),
)  # fmt: skip
# (sku, product name, unit price in cents)
PRODUCTS = (
    ("TEE-001", "Organic cotton tee", 1999), ("MUG-014", "Stoneware mug", 1450),
    ("CAN-007", "Soy candle, cedar", 1200), ("BAG-102", "Canvas tote bag", 1599),
    ("SOC-330", "Wool socks, 2 pairs", 1299), ("HAT-021", "Knit beanie", 1799),
    ("BTL-500", "Steel water bottle", 2499), ("NTB-044", "Dot-grid notebook", 899),
    ("PEN-009", "Gel pens, 5 pack", 599), ("LMP-300", "Desk lamp", 3999),
    ("TWL-210", "Bath towel", 2199), ("PLS-011", "Plush bear", 1499),
)  # fmt: skip
STORES = ("SF-UNION-01", "LA-GROVE-02", "NY-SOHO-03", "CHI-LOOP-04", "AUS-DOM-05", "SEA-PIKE-06")
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
ORDER_STATUSES = ("placed", "shipped", "delivered", "delivered", "delivered", "returned")
TIERS = ("bronze", "bronze", "bronze", "silver", "silver", "gold")
TICKET_SUBJECTS = (
    ("Where is my order?", "My order has not arrived yet. Can you check where it is?"),
    ("Wrong size", "I received the wrong size and would like to exchange it."),
    ("Refund request", "I returned an item two weeks ago and have not been refunded."),
    ("Loyalty points missing", "My points from my last store visit are not on my account."),
    ("Change my address", "Please update the shipping address on my account."),
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/130.0 Mobile",
)

Rows = dict[str, list[dict[str, Any]]]
Progress = Callable[[int, int], None]


class ShopNotEmpty(PrivacyOpsError):
    title = "Demo shop not empty"


@dataclass(frozen=True)
class KnownCustomer:
    """A demo customer with fixed rows, to try requests with (documented in the README)."""

    email: str
    name: str
    has_account: bool
    holds: str


KNOWN_CUSTOMERS = (
    KnownCustomer(
        "ann.demo@example.com",
        "Ann Demo",
        True,
        "2 orders (3 items, 2 payments), 2 addresses, gold loyalty member LM0000000001 with "
        "2 store visits and CCTV clips, email+SMS subscriber, 1 support ticket, 2 web sessions",
    ),
    KnownCustomer(
        "ben.demo@example.com",
        "Ben Demo",
        True,
        "1 returned order (1 item, 1 payment), 1 address, 1 web session; no loyalty, no marketing",
    ),
    KnownCustomer(
        "carla.demo@example.com",
        "Carla Demo",
        False,
        "no account: a marketing subscriber and 1 support ticket, found by email only",
    ),
)


class _Ids:
    """The next id of each table: children get their parent's id without asking the database."""

    def __init__(self) -> None:
        self._next = {table.name: 1 for table in TABLES}

    def __call__(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


def generate(
    url: str,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = 1,
    progress: Progress | None = None,
    *,
    reset: bool = False,
    batch_customers: int = BATCH_CUSTOMERS,
) -> dict[str, int]:
    """Create and fill the demo shop at `url`; return the number of rows written per table.

    `customers` counts the known demo customers with accounts (so it must be at least 2). A
    database that already holds shop rows is refused unless `reset`, which drops the shop's tables
    (and only those) first.
    """
    known_accounts = sum(1 for known in KNOWN_CUSTOMERS if known.has_account)
    if customers < known_accounts:
        raise PrivacyOpsError(f"customers: at least {known_accounts} (the known demo customers)")
    try:
        engine = make_engine(url)
    except ArgumentError:
        raise PrivacyOpsError("url: not a SQLAlchemy database URL") from None
    try:
        _prepare(engine, reset)
        return _fill(engine, customers, seed, progress, batch_customers)
    finally:
        engine.dispose()


def default_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file next to the platform's own database."""
    return f"sqlite:///{(data_dir / 'demo-shop.db').as_posix()}"


def safe_url(url: str) -> str:
    """The URL without its password, fit for a terminal."""
    return make_url(url).render_as_string(hide_password=True)


def _prepare(engine: Engine, reset: bool) -> None:
    if reset:
        metadata.drop_all(engine)
    elif _has_rows(engine):
        raise ShopNotEmpty(
            f"the demo shop at {safe_url(str(engine.url))} already has data; "
            "use --reset to replace it"
        )
    metadata.create_all(engine)


def _has_rows(engine: Engine) -> bool:
    existing = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return any(
            conn.execute(select(table.c.id).limit(1)).first() is not None
            for table in TABLES
            if table.name in existing
        )


def _fill(
    engine: Engine, customers: int, seed: int, progress: Progress | None, batch: int
) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    ids = _Ids()
    counts = {table.name: 0 for table in TABLES}
    rows = _known_rows(ids)
    done = len([k for k in KNOWN_CUSTOMERS if k.has_account])
    while True:
        stop = min(customers, done + batch - len(rows["customers"]))
        for _ in range(done, stop):
            _customer(rng, ids, rows)
        done = stop
        _insert(engine, rows, counts)
        if progress is not None:
            progress(done, customers)
        if done >= customers:
            return counts
        rows = _empty_rows()


def _empty_rows() -> Rows:
    return {table.name: [] for table in TABLES}


def _insert(engine: Engine, rows: Rows, counts: dict[str, int]) -> None:
    with engine.begin() as conn:
        for table in TABLES:
            if rows[table.name]:
                _write(conn, table, rows[table.name])
                counts[table.name] += len(rows[table.name])


def _write(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    """One statement per table and batch, never one per row.

    COPY on PostgreSQL through psycopg (twice as fast as its executemany, which matters at a
    million customers); an executemany everywhere else.
    """
    if conn.dialect.driver == "psycopg":
        _copy(conn, table, batch)
    else:
        conn.execute(table.insert(), batch)


def _copy(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    from psycopg import sql

    names = [column.name for column in table.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in batch:
            copy.write_row([row[name] for name in names])


def _when(rng: random.Random, after: datetime, days: int) -> datetime:
    return after + timedelta(seconds=rng.randrange(days * 86400))


def _customer(rng: random.Random, ids: _Ids, rows: Rows) -> None:
    cid = ids("customers")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{cid}@example.com".lower()
    phone = f"+1-{rng.randrange(201, 990)}-555-{rng.randrange(10000):04d}"
    created = _when(rng, BASE - timedelta(days=3 * 365), 3 * 365)
    rows["customers"].append(
        {
            "id": cid,
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "date_of_birth": date(
                rng.randrange(1950, 2007), rng.randrange(1, 13), rng.randrange(1, 29)
            ),
            "created_at": created,
            "password_hash": f"$argon2id$v=19$m=65536,t=3,p=4${rng.getrandbits(128):032x}",
        }
    )
    city, state, zip3 = rng.choice(CITIES)
    for kind in ("billing", "shipping")[: rng.randrange(1, 3)]:
        rows["addresses"].append(
            {
                "id": ids("addresses"),
                "customer_id": cid,
                "kind": kind,
                "street": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state": state,
                "postal_code": f"{zip3}{rng.randrange(100):02d}",
            }
        )
    for _ in range(rng.randrange(6)):
        _order(rng, ids, rows, cid, _when(rng, created, 365))
    if rng.random() < 0.6:
        _loyalty(rng, ids, rows, cid, created)
    if rng.random() < 0.5:
        rows["marketing_subscribers"].append(
            {
                "id": ids("marketing_subscribers"),
                "email": email,
                "customer_id": cid,
                "subscribed_at": _when(rng, created, 30),
                "sms_phone": phone if rng.random() < 0.3 else None,
            }
        )
    if rng.random() < 0.15:
        subject, body = rng.choice(TICKET_SUBJECTS)
        rows["support_tickets"].append(
            {
                "id": ids("support_tickets"),
                "customer_id": cid,
                "email": email,
                "subject": subject,
                "body": f"{body}\n\n{first} {last}, {phone}",
                "created_at": _when(rng, created, 365),
                "status": rng.choice(("open", "pending", "closed", "closed")),
            }
        )
    for _ in range(rng.randrange(1, 4)):
        rows["web_sessions"].append(
            {
                "id": ids("web_sessions"),
                "customer_id": cid,
                "cookie_id": f"ck_{rng.getrandbits(96):024x}",
                "ip_address": f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}."
                f"{rng.randrange(1, 255)}",
                "user_agent": rng.choice(USER_AGENTS),
                "started_at": _when(rng, created, 365),
            }
        )


def _order(rng: random.Random, ids: _Ids, rows: Rows, cid: int, placed: datetime) -> None:
    oid = ids("orders")
    total = 0
    for _ in range(rng.randrange(1, 5)):
        sku, name, price = rng.choice(PRODUCTS)
        quantity = rng.randrange(1, 4)
        total += quantity * price
        rows["order_items"].append(
            {
                "id": ids("order_items"),
                "order_id": oid,
                "sku": sku,
                "product_name": name,
                "quantity": quantity,
                "unit_price_cents": price,
            }
        )
    rows["orders"].append(
        {
            "id": oid,
            "customer_id": cid,
            "placed_at": placed,
            "total_cents": total,
            "status": rng.choice(ORDER_STATUSES),
        }
    )
    rows["payments"].append(
        {
            "id": ids("payments"),
            "order_id": oid,
            "card_token": f"tok_{rng.getrandbits(96):024x}",
            "card_last4": f"{rng.randrange(10000):04d}",
            "card_brand": rng.choice(CARD_BRANDS),
            "amount_cents": total,
        }
    )


def _loyalty(rng: random.Random, ids: _Ids, rows: Rows, cid: int, created: datetime) -> None:
    loyalty_id = f"LM{cid:010d}"
    joined = _when(rng, created, 60)
    rows["loyalty_members"].append(
        {
            "id": ids("loyalty_members"),
            "customer_id": cid,
            "loyalty_id": loyalty_id,
            "tier": rng.choice(TIERS),
            "points": rng.randrange(5000),
            "joined_at": joined,
        }
    )
    for _ in range(rng.randrange(7)):
        store, visited = rng.choice(STORES), _when(rng, joined, 365)
        rows["store_visits"].append(
            {
                "id": ids("store_visits"),
                "loyalty_id": loyalty_id,
                "store_code": store,
                "visited_at": visited,
                "cctv_clip_ref": f"cctv://{store}/{visited:%Y%m%d}/cam{rng.randrange(1, 9)}/"
                f"{rng.getrandbits(32):08x}.mp4",
            }
        )


def _known_rows(ids: _Ids) -> Rows:
    """The known demo customers' rows: fixed values, the same whatever the seed."""
    rows = _empty_rows()
    ann, ben = ids("customers"), ids("customers")
    ann_phone, ben_phone = "+1-415-555-0101", "+1-512-555-0102"
    rows["customers"] += [
        {
            "id": ann,
            "email": "ann.demo@example.com",
            "first_name": "Ann",
            "last_name": "Demo",
            "phone": ann_phone,
            "date_of_birth": date(1988, 4, 12),
            "created_at": datetime(2024, 3, 1, 10, 0),
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$ZGVtb2Fubg$not-a-real-hash-ann",
        },
        {
            "id": ben,
            "email": "ben.demo@example.com",
            "first_name": "Ben",
            "last_name": "Demo",
            "phone": ben_phone,
            "date_of_birth": date(1995, 9, 30),
            "created_at": datetime(2025, 6, 18, 8, 45),
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$ZGVtb2Jlbg$not-a-real-hash-ben",
        },
    ]
    for cid, kind, street, city, state, postal in (
        (ann, "billing", "100 Market St", "San Francisco", "CA", "94105"),
        (ann, "shipping", "742 Valencia St", "San Francisco", "CA", "94110"),
        (ben, "shipping", "1200 Congress Ave", "Austin", "TX", "78701"),
    ):
        rows["addresses"].append(
            {
                "id": ids("addresses"),
                "customer_id": cid,
                "kind": kind,
                "street": street,
                "city": city,
                "state": state,
                "postal_code": postal,
            }
        )
    for cid, placed, status, items, token, last4, brand in (
        (
            ann,
            datetime(2025, 11, 2, 14, 30),
            "delivered",
            (("TEE-001", "Organic cotton tee", 2, 1999), ("MUG-014", "Stoneware mug", 1, 1450)),
            "tok_demo_ann_0001",
            "4242",
            "visa",
        ),
        (
            ann,
            datetime(2026, 2, 14, 9, 15),
            "shipped",
            (("CAN-007", "Soy candle, cedar", 3, 1200),),
            "tok_demo_ann_0002",
            "4242",
            "visa",
        ),
        (
            ben,
            datetime(2025, 7, 4, 19, 5),
            "returned",
            (("LMP-300", "Desk lamp", 1, 3999),),
            "tok_demo_ben_0001",
            "5454",
            "mastercard",
        ),
    ):
        oid = ids("orders")
        total = sum(quantity * price for _, _, quantity, price in items)
        rows["orders"].append(
            {
                "id": oid,
                "customer_id": cid,
                "placed_at": placed,
                "total_cents": total,
                "status": status,
            }
        )
        for sku, name, quantity, price in items:
            rows["order_items"].append(
                {
                    "id": ids("order_items"),
                    "order_id": oid,
                    "sku": sku,
                    "product_name": name,
                    "quantity": quantity,
                    "unit_price_cents": price,
                }
            )
        rows["payments"].append(
            {
                "id": ids("payments"),
                "order_id": oid,
                "card_token": token,
                "card_last4": last4,
                "card_brand": brand,
                "amount_cents": total,
            }
        )
    rows["loyalty_members"].append(
        {
            "id": ids("loyalty_members"),
            "customer_id": ann,
            "loyalty_id": "LM0000000001",
            "tier": "gold",
            "points": 1840,
            "joined_at": datetime(2024, 3, 5, 12, 0),
        }
    )
    for store, visited, clip in (
        ("SF-UNION-01", datetime(2026, 1, 10, 16, 20), "cam3/demo-ann-0001.mp4"),
        ("SF-UNION-01", datetime(2026, 2, 20, 11, 5), "cam1/demo-ann-0002.mp4"),
    ):
        rows["store_visits"].append(
            {
                "id": ids("store_visits"),
                "loyalty_id": "LM0000000001",
                "store_code": store,
                "visited_at": visited,
                "cctv_clip_ref": f"cctv://{store}/{visited:%Y%m%d}/{clip}",
            }
        )
    account: int | None
    for email, account, subscribed, sms in (
        ("ann.demo@example.com", ann, datetime(2024, 3, 1, 10, 2), ann_phone),
        ("carla.demo@example.com", None, datetime(2025, 10, 1, 7, 30), None),
    ):
        rows["marketing_subscribers"].append(
            {
                "id": ids("marketing_subscribers"),
                "email": email,
                "customer_id": account,
                "subscribed_at": subscribed,
                "sms_phone": sms,
            }
        )
    for account, email, subject, body, created, status in (
        (
            ann,
            "ann.demo@example.com",
            "Where is my order?",
            "Hi, my candle order from Feb 14 has not arrived. Ann Demo, +1-415-555-0101",
            datetime(2026, 2, 18, 9, 0),
            "closed",
        ),
        (
            None,
            "carla.demo@example.com",
            "Gift card question",
            "Can I use a gift card in store? Thanks, Carla",
            datetime(2025, 12, 3, 15, 40),
            "open",
        ),
    ):
        rows["support_tickets"].append(
            {
                "id": ids("support_tickets"),
                "customer_id": account,
                "email": email,
                "subject": subject,
                "body": body,
                "created_at": created,
                "status": status,
            }
        )
    for cid, cookie, ip, agent, started in (
        (ann, "ck_demo_ann_0001", "203.0.113.10", USER_AGENTS[1], datetime(2025, 11, 2, 14, 10)),
        (ann, "ck_demo_ann_0002", "203.0.113.11", USER_AGENTS[2], datetime(2026, 2, 14, 9, 0)),
        (ben, "ck_demo_ben_0001", "198.51.100.20", USER_AGENTS[0], datetime(2025, 7, 4, 18, 50)),
    ):
        rows["web_sessions"].append(
            {
                "id": ids("web_sessions"),
                "customer_id": cid,
                "cookie_id": cookie,
                "ip_address": ip,
                "user_agent": agent,
                "started_at": started,
            }
        )
    return rows
