"""Datastores for the connector conformance suite: one scratch database per backend and run.

SQLite is a temp file; PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) each get a
database of their own, dropped at the end, so parallel runs do not meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from privacyops.connectors.port import CollectionSpec
from privacyops.connectors.sql import SqlConnector

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
BACKENDS = ["sqlite", "postgresql", "mariadb"]

CUSTOMERS = 1200  # more than two IN chunks of 500
ORDERS_PER_CUSTOMER = 2

metadata = MetaData()
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(120), nullable=False, unique=True),
    Column("name", String(120)),
    Column("phone", String(40)),
    Column("segment", String(40)),
)
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("total", Numeric(10, 2), nullable=False),
    Column("ship_to", String(200)),
)


def email_of(number: int) -> str:
    return f"customer{number}@example.com"


@dataclass
class Datastore:
    backend: str
    url: str
    engine: Engine


def _postgres_base() -> str:
    url = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    return url if url.startswith("postgresql") else POSTGRES_URL


@pytest.fixture(scope="session")
def server_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    name = f"privacyops_conn_{uuid.uuid4().hex[:10]}"
    sqlite_file = tmp_path_factory.mktemp("connectors") / "store.db"
    admins = {
        "postgresql": (
            _postgres_base(),
            f'CREATE DATABASE "{name}"',
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        ),
        "mariadb": (MARIADB_URL, f"CREATE DATABASE `{name}`", f"DROP DATABASE IF EXISTS `{name}`"),
    }
    urls = {"sqlite": f"sqlite:///{Path(sqlite_file).as_posix()}"}
    for backend, (base, create, _drop) in admins.items():
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(create))
        admin.dispose()
        urls[backend] = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield urls
    for base, _create, drop in admins.values():
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(drop))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def datastore(
    request: pytest.FixtureRequest, server_databases: dict[str, str]
) -> Iterator[Datastore]:
    """The shop schema with fresh rows: customers 1..1200, two orders each."""
    backend: str = request.param
    url = server_databases[backend]
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(customers),
            [
                {
                    "id": n,
                    "email": email_of(n),
                    "name": f"Customer {n}",
                    "phone": f"555-{n:04d}",
                    "segment": "retail",
                }
                for n in range(1, CUSTOMERS + 1)
            ],
        )
        conn.execute(
            insert(orders),
            [
                {
                    "id": n * 10 + k,
                    "customer_id": n,
                    "total": Decimal("10.50") * k,
                    "ship_to": f"{n} Main Street",
                }
                for n in range(1, CUSTOMERS + 1)
                for k in range(1, ORDERS_PER_CUSTOMER + 1)
            ],
        )
    yield Datastore(backend, url, engine)
    metadata.drop_all(engine)
    engine.dispose()


@dataclass
class Harness:
    """A connector under test on the shop schema, with what it sent to the datastore."""

    connector: SqlConnector
    statements: list[str]

    def sent(self, verb: str) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(verb)]


@pytest.fixture
def harness(datastore: Datastore) -> Iterator[Harness]:
    connector = SqlConnector(datastore.url, chunk_size=500)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    # Reflect the schema first so that `statements` holds only what the operations sent.
    connector.retrieve(CollectionSpec("customers", ()), "id", [])
    connector.retrieve(CollectionSpec("orders", ()), "id", [])
    event.listen(connector.engine, "before_cursor_execute", record)
    yield Harness(connector, statements)
    connector.close()
